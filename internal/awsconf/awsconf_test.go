package awsconf

import (
	"fmt"
	"strings"
	"testing"
)

// env is a getenv over a map: the tests never touch the process environment.
func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

func TestFromEnvNeedsRegionAndCredentials(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string // the region, or a variable the error names
		wantErr bool
	}{
		{"complete", map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}, "us-east-1", false},
		{"default region", map[string]string{"AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}, "eu-west-1", false},
		{"no region", map[string]string{"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}, "AWS_REGION", true},
		{"no credentials", map[string]string{"AWS_REGION": "us-east-1"}, "AWS_ACCESS_KEY_ID", true},
		{"no secret", map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k"}, "AWS_SECRET_ACCESS_KEY", true},
		{"bad endpoint", map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s",
			"AWS_ENDPOINT_URL": "127.0.0.1:8000"}, "AWS_ENDPOINT_URL", true},
		{"bad service endpoint", map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s",
			"AWS_ENDPOINT_URL_DYNAMODB": "ftp://127.0.0.1"}, "AWS_ENDPOINT_URL_DYNAMODB", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := FromEnv(env(tt.env), "DynamoDB")
			if (err != nil) != tt.wantErr {
				t.Fatalf("FromEnv() error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %q does not name %s", err, tt.want)
				}
				return
			}
			cfg := s.Config()
			if cfg.Region != tt.want {
				t.Errorf("Region = %q, want %q", cfg.Region, tt.want)
			}
			creds, err := cfg.Credentials.Retrieve(t.Context())
			if err != nil || creds.AccessKeyID != "k" || creds.SecretAccessKey != "s" {
				t.Errorf("credentials = %+v, %v", creds, err)
			}
			if r1, r2 := cfg.Retryer(), cfg.Retryer(); r1 == r2 {
				t.Error("Retryer returned the same retryer twice; each client needs its own")
			} else if got := r1.MaxAttempts(); got != MaxAttempts {
				t.Errorf("MaxAttempts = %d, want %d", got, MaxAttempts)
			}
		})
	}
}

func TestEndpointPrefersServiceVariable(t *testing.T) {
	vars := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:2", "AWS_ENDPOINT_URL_SESV2": "http://127.0.0.1:3"}
	s, err := FromEnv(env(vars), "DynamoDB")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Endpoint("DynamoDB"); got == nil || *got != "http://127.0.0.1:2" {
		t.Errorf("Endpoint(DynamoDB) = %v, want the service variable", got)
	}
	// SESv2 was not named to FromEnv: its own variable is not read.
	if got := s.Endpoint("SESv2"); got == nil || *got != "http://127.0.0.1:1" {
		t.Errorf("Endpoint(SESv2) = %v, want the general variable", got)
	}
	delete(vars, "AWS_ENDPOINT_URL")
	if s, err = FromEnv(env(vars), "DynamoDB", "SESv2"); err != nil {
		t.Fatal(err)
	}
	if got := s.Endpoint("SESv2"); got == nil || *got != "http://127.0.0.1:3" {
		t.Errorf("Endpoint(SESv2) = %v, want its own variable", got)
	}
	if got := s.Endpoint("SQS"); got != nil {
		t.Errorf("Endpoint(SQS) = %q, want nil (AWS's own endpoint)", *got)
	}
}

func TestEndpointVariable(t *testing.T) {
	for svc, want := range map[string]string{"DynamoDB": "AWS_ENDPOINT_URL_DYNAMODB", "SESv2": "AWS_ENDPOINT_URL_SESV2",
		"Cognito Identity Provider": "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"} {
		if got := EndpointVariable(svc); got != want {
			t.Errorf("EndpointVariable(%q) = %q, want %q", svc, got, want)
		}
	}
}

// A config printed into a log or a test failure must not carry the keys.
func TestSettingsHideCredentials(t *testing.T) {
	s, err := FromEnv(env(map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEYID",
		"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMIsecret", "AWS_SESSION_TOKEN": "IQoJsessiontoken"}))
	if err != nil {
		t.Fatal(err)
	}
	holder := struct {
		Table string
		AWS   Settings
	}{"leads", s}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%v", holder), fmt.Sprintf("%+v", holder)} {
		for _, secret := range []string{"AKIAEXAMPLEKEYID", "wJalrXUtnFEMIsecret", "IQoJsessiontoken"} {
			if strings.Contains(out, secret) {
				t.Errorf("%q shows a credential", out)
			}
		}
		if !strings.Contains(out, "us-east-1") {
			t.Errorf("%q does not show the region", out)
		}
	}
}
