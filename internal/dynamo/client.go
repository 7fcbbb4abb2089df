package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// ClientAPI adapts the SDK client to API through method values. Handing the
// *dynamodb.Client itself to an interface would make the linker keep every
// one of its ~60 operations wherever reflect's MethodByName is reachable
// (html/template in notify), because the linker then keeps all exported
// methods of every type stored in an interface. Measured: 1.5 MB.
func ClientAPI(c *dynamodb.Client) API {
	return clientFuncs{put: c.PutItem, get: c.GetItem, update: c.UpdateItem, query: c.Query}
}

type clientFuncs struct {
	put    func(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	get    func(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	update func(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	query  func(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

func (f clientFuncs) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return f.put(ctx, in, opts...)
}

func (f clientFuncs) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return f.get(ctx, in, opts...)
}

func (f clientFuncs) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return f.update(ctx, in, opts...)
}

func (f clientFuncs) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return f.query(ctx, in, opts...)
}
