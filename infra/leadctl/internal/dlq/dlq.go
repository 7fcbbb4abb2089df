// Package dlq works the notify function's dead-letter queue. Each message
// is Lambda's record of a stream batch it gave up on: the shard, the
// sequence numbers and when the batch's records arrived, never the lead.
// The stream itself keeps records for 24 hours, so a pointer is resolved
// the safe way: to the new leads without a notifiedAt mark (or, with
// confirmations, without a confirmation mark) that were written in the
// window the pointer names. Those are re-driven through the notify
// function's resend event (only what has no mark is sent), and a message
// is deleted only once nothing it may point at is left unsent.
package dlq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
	"github.com/clinicleads/leadpipe/internal/notify"
)

// Pointer is a stream failure record, as Lambda sends it to an on-failure
// destination (DDBStreamBatchInfo).
type Pointer struct {
	Condition     string    `json:"condition"` // RetryAttemptsExhausted, RecordAgeExceeded, ...
	Shard         string    `json:"shardId"`
	StartSequence string    `json:"startSequenceNumber"`
	EndSequence   string    `json:"endSequenceNumber"`
	First         time.Time `json:"approximateArrivalOfFirstRecord"`
	Last          time.Time `json:"approximateArrivalOfLastRecord"`
	BatchSize     int       `json:"batchSize"`
}

// Parse reads a message body as a stream failure record.
func Parse(body string) (Pointer, error) {
	var rec struct {
		RequestContext struct {
			Condition string `json:"condition"`
		} `json:"requestContext"`
		Batch *struct {
			ShardID   string    `json:"shardId"`
			Start     string    `json:"startSequenceNumber"`
			End       string    `json:"endSequenceNumber"`
			First     time.Time `json:"approximateArrivalOfFirstRecord"`
			Last      time.Time `json:"approximateArrivalOfLastRecord"`
			BatchSize int       `json:"batchSize"`
		} `json:"DDBStreamBatchInfo"`
	}
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
		return Pointer{}, fmt.Errorf("not a stream failure record: %w", err)
	}
	b := rec.Batch
	if b == nil || b.First.IsZero() || b.Last.IsZero() || b.Last.Before(b.First) {
		return Pointer{}, errors.New("not a stream failure record: no DDBStreamBatchInfo with arrival times")
	}
	return Pointer{Condition: rec.RequestContext.Condition, Shard: b.ShardID, StartSequence: b.Start, EndSequence: b.End,
		First: b.First, Last: b.Last, BatchSize: b.BatchSize}, nil
}

// Slack widens a pointer's window: arrival times are approximate.
const Slack = time.Minute

// Window is where the pointer's leads are: written (storedAt) from its
// first record's arrival to its last one's, widened by Slack, and created
// up to a keyed retry's day (lead.KeyWindow) before that (a lead's
// createdAt is its idempotency claim's time).
func (p Pointer) Window() (from, to time.Time) {
	return p.First.Add(-Slack - lead.KeyWindow), p.Last.Add(Slack)
}

// Message is one queue message.
type Message struct {
	ID     string
	Body   string
	Handle string // the receipt handle that deletes it
}

// Queue is the dead-letter queue. The SQS adapter receives with a
// visibility timeout, so a message is handed out once per run.
type Queue interface {
	// Receive returns up to max messages; none means the queue is empty.
	Receive(ctx context.Context, max int) ([]Message, error)
	Delete(ctx context.Context, handle string) error
}

// Finder lists leads still waiting for an email. *dynamo.Store has it.
type Finder interface {
	Unsent(ctx context.Context, from, to time.Time, confirmations bool) (dynamo.Backlog, error)
}

// Resender asks the notify function to send what is missing.
type Resender interface {
	Resend(ctx context.Context, r notify.ResendRequest) (notify.ResendResult, error)
}

// LeadResult is what happened to one lead a pointer resolved to.
type LeadResult struct {
	ID      string   `json:"id"`
	Outcome string   `json:"outcome"`
	Sent    []string `json:"sent,omitempty"`
	Message string   `json:"message,omitempty"`
}

// MessageResult is what was done with one message.
type MessageResult struct {
	ID      string       `json:"messageId"`
	Pointer *Pointer     `json:"pointer,omitempty"`
	Leads   []LeadResult `json:"leads"`
	// Unreadable are keys of lead items in the window that cannot be
	// read: the message is kept for a person to look at them.
	Unreadable []string `json:"unreadable,omitempty"`
	Deleted    bool     `json:"deleted"`
	Note       string   `json:"note"`
}

// Report is a whole run.
type Report struct {
	Mode     string          `json:"mode"`
	Messages []MessageResult `json:"messages"`
	Deleted  int             `json:"deleted"`
	Kept     int             `json:"kept"`
}

// Run reads up to max messages. drain (replay false) deletes the messages
// whose window holds nothing unsent any more (the sweep or a resend got
// there) and keeps the others; replay first re-drives each unsent lead
// through the resender, then deletes the messages whose leads all went
// out. A message that is not a stream failure record is kept.
func Run(ctx context.Context, q Queue, f Finder, r Resender, replay, confirmations bool, max int) (Report, error) {
	rep := Report{Mode: "drain"}
	if replay {
		rep.Mode = "replay"
		if r == nil {
			return rep, errors.New("replay needs the notify function")
		}
	}
	for len(rep.Messages) < max {
		msgs, err := q.Receive(ctx, min(10, max-len(rep.Messages)))
		if err != nil {
			return rep, fmt.Errorf("receive from the dead-letter queue: %w", err)
		}
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			res, err := handle(ctx, f, r, replay, confirmations, m)
			if err != nil {
				return rep, err
			}
			if res.Deleted {
				if err := q.Delete(ctx, m.Handle); err != nil {
					res.Deleted, res.Note = false, "handled, but the delete failed: "+err.Error()
				}
			}
			if res.Deleted {
				rep.Deleted++
			} else {
				rep.Kept++
			}
			rep.Messages = append(rep.Messages, res)
		}
	}
	return rep, nil
}

func handle(ctx context.Context, f Finder, r Resender, replay, confirmations bool, m Message) (MessageResult, error) {
	res := MessageResult{ID: m.ID, Leads: []LeadResult{}}
	p, err := Parse(m.Body)
	if err != nil {
		res.Note = "kept: " + err.Error() + " (read it with aws sqs receive-message)"
		return res, nil
	}
	res.Pointer = &p
	from, to := p.Window()
	bl, err := f.Unsent(ctx, from, to, confirmations)
	if err != nil {
		return res, fmt.Errorf("find the leads of message %s: %w", m.ID, err)
	}
	res.Unreadable = bl.Unreadable
	if !replay {
		for _, l := range bl.Leads {
			res.Leads = append(res.Leads, LeadResult{ID: l.ID, Outcome: "unsent"})
		}
	} else {
		for _, l := range bl.Leads {
			out, err := r.Resend(ctx, notify.ResendRequest{Leadpipe: notify.ResendEvent, ID: l.ID, Missing: true})
			if err != nil {
				out = notify.ResendResult{ID: l.ID, Outcome: notify.ResendFailed, Message: err.Error()}
			}
			res.Leads = append(res.Leads, LeadResult{ID: l.ID, Outcome: out.Outcome, Sent: out.Sent, Message: out.Message})
		}
	}
	left := 0
	for _, l := range res.Leads {
		if l.Outcome != notify.ResendSent && l.Outcome != notify.ResendNothing && l.Outcome != notify.ResendMissing {
			left++
		}
	}
	switch {
	case len(res.Unreadable) > 0:
		res.Note = fmt.Sprintf("kept: %d lead item(s) in its window cannot be read; repair or remove them by key (docs/runbook.md, UnreadableLeadsAlarm)", len(res.Unreadable))
	case left > 0 && replay:
		res.Note = fmt.Sprintf("kept: %d lead(s) still not sent; fix the cause (notify logs) and replay again", left)
	case left > 0:
		res.Note = fmt.Sprintf("kept: %d lead(s) in its window still unsent; run dlq replay", left)
	default:
		res.Deleted = true
		res.Note = "deleted: nothing in its window is waiting for an email"
		if replay && len(res.Leads) > 0 {
			res.Note = "deleted: its leads are sent"
		}
	}
	return res, nil
}
