package samtemplate

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func mustLoad(t *testing.T) *Template {
	t.Helper()
	tmpl, err := Load()
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	return tmpl
}

func TestCreateTableInput(t *testing.T) {
	in, err := mustLoad(t).CreateTableInput(LeadsTable, "leads-local")
	if err != nil {
		t.Fatalf("CreateTableInput() error = %v", err)
	}
	// The store's queries depend on these names; a change here must be a
	// change there too.
	tests := []struct {
		name string
		got  any
		want string
	}{
		{"TableName", in.TableName, `"leads-local"`},
		{"BillingMode", in.BillingMode, `"PAY_PER_REQUEST"`},
		{"AttributeDefinitions", in.AttributeDefinitions,
			`[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"kind","AttributeType":"S"},` +
				`{"AttributeName":"status","AttributeType":"S"},{"AttributeName":"createdAt","AttributeType":"S"},` +
				`{"AttributeName":"queue","AttributeType":"S"},{"AttributeName":"leadId","AttributeType":"S"},{"AttributeName":"auditAt","AttributeType":"S"}]`},
		{"KeySchema", in.KeySchema, `[{"AttributeName":"pk","KeyType":"HASH"}]`},
		// Rendered by hand: the SDK's structs gain fields over time.
		{"GlobalSecondaryIndexes", gsiSummary(in.GlobalSecondaryIndexes),
			`["ByKindDate kind HASH createdAt RANGE INCLUDE [id type status storedAt notifiedAt confirmedAt confirmRefusedAt escalatedAt escalationLevel inCrisis suspectedSpam version email]",` +
				`"ByStatusDate status HASH createdAt RANGE INCLUDE [id type kind storedAt notifiedAt confirmedAt confirmRefusedAt escalatedAt escalationLevel inCrisis suspectedSpam version]",` +
				`"ByStatusQueue status HASH queue RANGE INCLUDE [id kind createdAt name firstName lastName inCrisis notifiedAt version]",` +
				`"AuditByLead leadId HASH auditAt RANGE ALL []"]`},
		{"LocalSecondaryIndexes", in.LocalSecondaryIndexes, `null`},
		{"ProvisionedThroughput", in.ProvisionedThroughput, `null`},
		{"StreamSpecification", in.StreamSpecification, `{"StreamEnabled":true,"StreamViewType":"NEW_IMAGE"}`},
		{"DeletionProtectionEnabled", in.DeletionProtectionEnabled, `null`},
		{"SSESpecification", in.SSESpecification, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := js(tt.got); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestLeadsIndexesCopyNoHealthData: an index of the leads table copies
// only ids, marks and flags, plus what one reader needs: the inbox list's
// names in ByStatusQueue, erasure's email in ByKindDate. No index of a
// lead's keys projects ALL: AuditByLead may, because leads carry neither
// leadId nor auditAt, so it holds audit entries only.
func TestLeadsIndexesCopyNoHealthData(t *testing.T) {
	in, err := mustLoad(t).CreateTableInput(LeadsTable, "leads-local")
	if err != nil {
		t.Fatalf("CreateTableInput() error = %v", err)
	}
	common := []string{"id", "type", "kind", "status", "createdAt", "storedAt", "notifiedAt", "confirmedAt",
		"confirmRefusedAt", "escalatedAt", "escalationLevel", "inCrisis", "suspectedSpam", "version"}
	extra := map[string][]string{
		"ByKindDate":    {"email"},
		"ByStatusQueue": {"name", "firstName", "lastName"},
	}
	if len(in.LocalSecondaryIndexes) != 0 {
		t.Errorf("LeadsTable has local secondary indexes; check their projections too")
	}
	for _, g := range in.GlobalSecondaryIndexes {
		name := aws.ToString(g.IndexName)
		if g.Projection == nil {
			t.Errorf("%s has no projection", name)
			continue
		}
		if g.Projection.ProjectionType == types.ProjectionTypeAll {
			if name != "AuditByLead" {
				t.Errorf("%s projects ALL: it would copy health answers", name)
			}
			continue
		}
		for _, a := range g.Projection.NonKeyAttributes {
			if !slices.Contains(common, a) && !slices.Contains(extra[name], a) {
				t.Errorf("%s projects %q, which is not allowed there", name, a)
			}
		}
	}
}

func gsiSummary(gsis []types.GlobalSecondaryIndex) []string {
	var out []string
	for _, g := range gsis {
		s := aws.ToString(g.IndexName)
		for _, k := range g.KeySchema {
			s += " " + aws.ToString(k.AttributeName) + " " + string(k.KeyType)
		}
		if g.Projection != nil {
			s += fmt.Sprintf(" %s %v", g.Projection.ProjectionType, g.Projection.NonKeyAttributes)
		}
		if g.ProvisionedThroughput != nil {
			s += " provisioned"
		}
		out = append(out, s)
	}
	return out
}

func TestTimeToLiveAttribute(t *testing.T) {
	got, err := mustLoad(t).TimeToLiveAttribute(LeadsTable)
	if err != nil {
		t.Fatalf("TimeToLiveAttribute() error = %v", err)
	}
	if got != "expiresAt" {
		t.Errorf("TimeToLiveAttribute() = %q, want expiresAt", got)
	}
}

func TestCreateTableInputFromOtherTemplates(t *testing.T) {
	const tmpl = `
Parameters:
  Capacity: {Type: Number, Default: "5"}
  NoDefault: {Type: String}
Resources:
  Provisioned:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}, {AttributeName: at, AttributeType: N}]
      KeySchema: [{AttributeName: id, KeyType: HASH}, {AttributeName: at, KeyType: RANGE}]
      ProvisionedThroughput: {ReadCapacityUnits: !Ref Capacity, WriteCapacityUnits: 2}
      LocalSecondaryIndexes:
        - IndexName: ByAt
          KeySchema: [{AttributeName: id, KeyType: HASH}, {AttributeName: at, KeyType: RANGE}]
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [x]}
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: false}
  KeyFromParameter:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: !Ref NoDefault, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  KeyFromSub:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: !Sub "${AWS::StackName}", KeyType: HASH}]
  NoKeys:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
  Queue:
    Type: AWS::SQS::Queue
`
	parsed, err := Parse([]byte(tmpl))
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}

	t.Run("provisioned with local index", func(t *testing.T) {
		in, err := parsed.CreateTableInput("Provisioned", "p")
		if err != nil {
			t.Fatalf("CreateTableInput() error = %v", err)
		}
		if got, want := js(in.ProvisionedThroughput), `{"ReadCapacityUnits":5,"WriteCapacityUnits":2}`; got != want {
			t.Errorf("ProvisionedThroughput = %s, want %s", got, want)
		}
		if got, want := js(in.LocalSecondaryIndexes[0].Projection), `{"NonKeyAttributes":["x"],"ProjectionType":"INCLUDE"}`; got != want {
			t.Errorf("LocalSecondaryIndexes[0].Projection = %s, want %s", got, want)
		}
		if in.StreamSpecification != nil {
			t.Errorf("StreamSpecification = %s, want nil without one in the template", js(in.StreamSpecification))
		}
		if ttl, err := parsed.TimeToLiveAttribute("Provisioned"); err != nil || ttl != "" {
			t.Errorf("TimeToLiveAttribute() = %q, %v; want \"\" when disabled", ttl, err)
		}
	})

	errs := []struct {
		name, id, tableName, want string
	}{
		{"missing resource", "Nope", "t", "no resource Nope"},
		{"not a table", "Queue", "t", "not AWS::DynamoDB::Table"},
		{"empty name", "Provisioned", "", "empty table name"},
		{"parameter without default", "KeyFromParameter", "t", "parameter NoDefault has no Default"},
		{"unresolvable intrinsic", "KeyFromSub", "t", "Fn::Sub cannot be resolved"},
		{"no key schema", "NoKeys", "t", "no KeySchema"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parsed.CreateTableInput(tt.id, tt.tableName)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CreateTableInput(%s) error = %v, want one containing %q", tt.id, err, tt.want)
			}
		})
	}
}
