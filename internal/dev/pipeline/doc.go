// Package pipeline holds no code, only tests of the whole pipeline in one
// process: intake handlers, the DynamoDB stream (internal/localstream) and
// the notify handler, against the real local DynamoDB and SES APIs. They
// prove what no single package can: that a lead answered 201 reaches staff
// exactly once, through outages and under concurrency.
package pipeline
