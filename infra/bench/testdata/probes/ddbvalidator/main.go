// Command ddbvalidator is probes/ddb plus go-playground/validator, used once.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/awsconf"
	"github.com/go-playground/validator/v10"
)

func main() {
	_ = validator.New(validator.WithRequiredStructEnabled()).Struct(struct{ A string }{})
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
