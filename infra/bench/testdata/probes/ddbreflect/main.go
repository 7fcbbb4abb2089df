// Command ddbreflect is probes/ddb plus one reflect.Value.MethodByName with
// a name known only at run time: what that alone does to dead-code elimination.
package main

import (
	"context"
	"os"
	"reflect"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/awsconf"
)

func main() {
	if len(os.Args) > 5 { // never true; the call must only be linked
		reflect.ValueOf(os.Args).MethodByName(os.Args[1]).Call(nil)
	}
	settings, _ := awsconf.FromEnv(os.Getenv, dynamodb.ServiceID)
	db := dynamodb.NewFromConfig(settings.Config())
	lambda.Start(func(ctx context.Context, ev map[string]string) (string, error) {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(ev["table"]),
			Item:      map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: ev["pk"]}},
		})
		return "ok", err
	})
}
