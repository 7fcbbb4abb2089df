// Command ddbtemplate is probes/ddb plus html/template, used once.
package main

import (
	"context"
	"html/template"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/awsconf"
)

func main() {
	_ = template.Must(template.New("page").Parse("<p>{{if .}}yes{{end}}</p>")).Execute(os.Stdout, len(os.Args) > 5)
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
