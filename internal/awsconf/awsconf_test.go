package awsconf

import (
	"testing"
)

func TestFromEnvNeedsRegionAndCredentials(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr bool
	}{
		{"complete", map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}, false},
		{"no region", map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}, true},
		{"no credentials", map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg, err := FromEnv()
			if (err != nil) != tt.wantErr {
				t.Fatalf("FromEnv() error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				if cfg.Region != "us-east-1" {
					t.Errorf("Region = %q, want us-east-1", cfg.Region)
				}
				if r1, r2 := cfg.Retryer(), cfg.Retryer(); r1 == r2 {
					t.Error("Retryer returned the same retryer twice; each client needs its own")
				} else if got := r1.MaxAttempts(); got != MaxAttempts {
					t.Errorf("MaxAttempts = %d, want %d", got, MaxAttempts)
				}
			}
		})
	}
}

func TestEndpointPrefersServiceVariable(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2")
	t.Setenv("AWS_ENDPOINT_URL_SESV2", "")
	if got := Endpoint("DynamoDB"); got == nil || *got != "http://127.0.0.1:2" {
		t.Errorf("Endpoint(DynamoDB) = %v, want the service variable", got)
	}
	if got := Endpoint("SESv2"); got == nil || *got != "http://127.0.0.1:1" {
		t.Errorf("Endpoint(SESv2) = %v, want the general variable", got)
	}
	t.Setenv("AWS_ENDPOINT_URL", "")
	if got := Endpoint("SESv2"); got != nil {
		t.Errorf("Endpoint(SESv2) = %q, want nil (AWS's own endpoint)", *got)
	}
}
