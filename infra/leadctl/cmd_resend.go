package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/clinicleads/leadpipe/infra/leadctl/internal/dlq"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/notify"
)

func (a *app) resend(ctx context.Context, args []string) error {
	var c common
	var id string
	var confirmation bool
	fs := a.flags("resend", "--id ID [--confirmation]",
		`Has the notify function send a lead's staff email again (or, with
--confirmation, the confirmation to the person who filled in the form) and
record the new time on the lead: for the bounced-then-fixed case. The
email is built and sent by the notify function itself (a resend event),
so only it holds ses:SendEmail. A lead in Spam is refused: rescue it in the
staff inbox first. With --local it runs the dev stack's notify handler.`, &c)
	fs.StringVar(&id, "id", "", "the lead's id (required)")
	fs.BoolVar(&confirmation, "confirmation", false, "send the confirmation to the submitter instead of the staff email")
	if err := parse(fs, &c, args, false); err != nil {
		return err
	}
	if !dynamo.IsLeadID(id) {
		return usagef("--id must be a lead id (such as 019cb963-2f11-7a90-8c3e-5b2d7e9f1a22), not %q", id)
	}
	t, err := a.connect(ctx, c)
	if err != nil {
		return err
	}
	r, err := t.resender()
	if err != nil {
		return err
	}
	res, err := r.Resend(ctx, notify.ResendRequest{ID: id, Confirmation: confirmation})
	if err != nil {
		return err
	}
	if c.json() {
		if err := writeJSON(a.out, res); err != nil {
			return err
		}
	} else {
		what := "staff email"
		if confirmation {
			what = "confirmation"
		}
		switch res.Outcome {
		case notify.ResendSent:
			fmt.Fprintf(a.out, "Sent the %s of lead %s again, on %s.\n", what, id, t)
			if res.Message != "" {
				fmt.Fprintf(a.out, "Note: %s\n", res.Message)
			}
		default:
			fmt.Fprintf(a.errw, "leadctl resend: the %s of lead %s was not sent: %s (%s)\n", what, id, res.Outcome, res.Message)
		}
	}
	if res.Outcome != notify.ResendSent {
		return errReported
	}
	return nil
}

func (a *app) dlq(ctx context.Context, args []string) error {
	var c common
	var max int
	fs := a.flags("dlq", "drain|replay [--max N]",
		`Works the notify function's dead-letter queue. Each message is Lambda's
pointer to a stream batch that failed (shard, sequence numbers, arrival
times), not the lead. leadctl resolves a pointer to the new leads written in
its window that still have no notifiedAt mark (or confirmation mark, when
confirmations are on).

  drain   deletes the messages whose window holds nothing unsent any more
          (the 15-minute sweep or a resend got there); keeps the others.
  replay  re-drives each unsent lead through the notify function (only what
          has no mark is sent), then deletes the messages whose leads all
          went out.

A message that is not a stream failure record, or whose window holds a lead
that cannot be read, is kept for a person to look at. The dev stack has no
queue, so --local is refused.`, &c)
	fs.IntVar(&max, "max", 100, "read at most this many messages")
	// The mode may come first (dlq replay --max 5) or after the options.
	var mode string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		mode, args = args[0], args[1:]
	}
	if err := parse(fs, &c, args, true); err != nil {
		return err
	}
	if mode == "" && fs.NArg() == 1 {
		mode = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if mode != "drain" && mode != "replay" {
		return usagef("say drain or replay")
	}
	replay := mode == "replay"
	if max < 1 {
		return usagef("--max must be at least 1")
	}
	if c.local {
		return usagef("the dev stack has no dead-letter queue (no SQS emulator); its notify failures are retried by the local stream and shown in its log")
	}
	t, err := a.connect(ctx, c)
	if err != nil {
		return err
	}
	url := t.info.Outputs["DeadLetterQueueUrl"]
	if url == "" {
		return errors.New("the stack has no DeadLetterQueueUrl output: deploy it again")
	}
	var r dlq.Resender
	if replay {
		rs, err := t.resender()
		if err != nil {
			return err
		}
		r = rs
	}
	rep, err := dlq.Run(ctx, &sqsQueue{api: sqs.NewFromConfig(t.aws), url: url}, dynamo.New(t.db, t.table), r, replay, t.confirmations, max)
	if err != nil {
		return err
	}
	return a.printDLQ(c, t, rep)
}

func (a *app) printDLQ(c common, t *target, rep dlq.Report) error {
	if c.json() {
		return writeJSON(a.out, rep)
	}
	fmt.Fprintf(a.out, "leadctl dlq %s: %s\n", rep.Mode, t)
	for _, m := range rep.Messages {
		fmt.Fprintf(a.out, "message %s", m.ID)
		if p := m.Pointer; p != nil {
			fmt.Fprintf(a.out, " (%s, %d record(s) arrived %s to %s)", p.Condition, p.BatchSize, rfc3339(p.First), rfc3339(p.Last))
		}
		fmt.Fprintln(a.out)
		for _, l := range m.Leads {
			fmt.Fprintf(a.out, "  lead %s  %s", l.ID, l.Outcome)
			if len(l.Sent) > 0 {
				fmt.Fprintf(a.out, " (%s)", strings.Join(l.Sent, ", "))
			}
			if l.Message != "" {
				fmt.Fprintf(a.out, ": %s", l.Message)
			}
			fmt.Fprintln(a.out)
		}
		for _, pk := range m.Unreadable {
			fmt.Fprintf(a.out, "  unreadable item %s\n", pk)
		}
		fmt.Fprintf(a.out, "  %s\n", m.Note)
	}
	fmt.Fprintf(a.out, "%d message(s): %d deleted, %d kept\n", len(rep.Messages), rep.Deleted, rep.Kept)
	if rep.Kept > 0 {
		return errReported
	}
	return nil
}

// sqsAPI is the part of the SQS client the queue uses.
type sqsAPI interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// sqsQueue is the dead-letter queue on SQS. A received message stays
// hidden for visibility, longer than a run, so one run sees it once; a
// kept message shows again after that.
type sqsQueue struct {
	api sqsAPI
	url string
}

const visibility = 300 // seconds

func (q *sqsQueue) Receive(ctx context.Context, max int) ([]dlq.Message, error) {
	out, err := q.api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: &q.url, MaxNumberOfMessages: int32(min(max, 10)), VisibilityTimeout: visibility, WaitTimeSeconds: 1,
	})
	if err != nil {
		return nil, err
	}
	var msgs []dlq.Message
	for _, m := range out.Messages {
		msgs = append(msgs, dlq.Message{ID: aws.ToString(m.MessageId), Body: aws.ToString(m.Body), Handle: aws.ToString(m.ReceiptHandle)})
	}
	return msgs, nil
}

func (q *sqsQueue) Delete(ctx context.Context, handle string) error {
	_, err := q.api.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &q.url, ReceiptHandle: &handle})
	return err
}
