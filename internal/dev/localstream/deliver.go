package localstream

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// run is the event source mapping: one shard, one batch in flight, records
// in sequence order.
func (s *Stream) run() {
	defer close(s.done)
	for {
		batch, ok := s.next()
		if !ok {
			return
		}
		s.deliver(batch)
	}
}

// next waits for records and for the batching window, then returns the
// next batch; false means stop.
func (s *Stream) next() ([]entry, bool) {
	for {
		if s.ctx.Err() != nil {
			return nil, false
		}
		s.mu.Lock()
		s.expire()
		queued, closing, size := len(s.queue), s.closing, s.batchSize()
		var wait time.Duration
		if queued > 0 {
			wait = time.Until(s.queue[0].at.Add(s.cfg.Window))
		}
		// A retry, or the rest of a bisected batch, goes at once, as the
		// records have waited their window already.
		retrying := s.fails > 0 || s.zone > 0
		if queued > 0 && (queued >= size || closing || retrying || wait <= 0) {
			batch := append([]entry(nil), s.queue[:min(size, queued)]...)
			s.delivering = true
			s.mu.Unlock()
			return batch, true
		}
		s.mu.Unlock()
		if queued == 0 && closing {
			return nil, false
		}
		var timer *time.Timer
		var timeout <-chan time.Time
		if queued > 0 {
			timer = time.NewTimer(wait)
			timeout = timer.C
		}
		select {
		case <-s.wake:
		case <-timeout:
		case <-s.ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// batchSize is the size of the next batch: smaller while a failed batch is
// being bisected. Called with mu held.
func (s *Stream) batchSize() int {
	if s.limit > 0 {
		return min(s.limit, int(s.cfg.Event.BatchSize))
	}
	return int(s.cfg.Event.BatchSize)
}

// expire dead-letters records at the head older than the event's
// MaximumRecordAgeInSeconds, as Lambda discards them. Called with mu held.
func (s *Stream) expire() {
	maxAge := s.cfg.Event.MaximumRecordAgeInSeconds
	if maxAge < 0 {
		return
	}
	n := 0
	for n < len(s.queue) && time.Since(s.queue[n].at) > time.Duration(maxAge)*time.Second {
		n++
	}
	if n == 0 {
		return
	}
	old := make([]events.DynamoDBEventRecord, n)
	for i := range n {
		old[i] = s.queue[i].rec
	}
	s.consume(n)
	s.fails = 0
	s.deadLetter(old, "older than MaximumRecordAgeInSeconds")
}

// consume removes k records from the head of the queue. Called with mu held.
func (s *Stream) consume(k int) {
	s.queue = s.queue[k:]
	if s.zone > 0 {
		s.zone = max(s.zone-k, 0)
	}
	s.limit = s.zone
}

// deadLetter keeps records given up on and logs them by sequence number and
// lead id only. Called with mu held.
func (s *Stream) deadLetter(recs []events.DynamoDBEventRecord, reason string) {
	s.deadLetters = append(s.deadLetters, recs...)
	seqs, ids := describe(recs)
	s.log.Error("stream: records sent to the dead-letter list", "reason", reason,
		"records", len(recs), "sequenceNumbers", seqs, "leadIds", ids)
}

// deliver makes one attempt at batch, which is the head of the queue, and
// settles its outcome as Lambda does.
func (s *Stream) deliver(batch []entry) {
	ev := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, len(batch))}
	for i, e := range batch {
		ev.Records[i] = e.rec
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.InvokeTimeout)
	resp, err := s.call(ctx, ev)
	cancel()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.delivering = false
	if s.ctx.Err() != nil {
		return // stopped mid-call: the records stay queued and Close reports them
	}
	first, failed, err := s.outcome(ev.Records, resp, err)
	n := len(batch)
	retries := s.cfg.Event.MaximumRetryAttempts // -1: retry until the records expire
	switch {
	case err == nil && first < 0:
		s.consume(n)
		s.fails = 0
		return
	case err == nil:
		// Records before the first failed one are done; Lambda retries from
		// the failed one (records after it come again too).
		if first > 0 {
			s.consume(first)
			s.fails = 1
		} else {
			s.fails++
		}
		if retries >= 0 && s.fails > int(retries) {
			var dead []events.DynamoDBEventRecord
			for _, r := range ev.Records[first:] {
				if failed[r.Change.SequenceNumber] {
					dead = append(dead, r)
				}
			}
			s.consume(n - first)
			s.fails = 0
			s.deadLetter(dead, "retries exhausted")
			return
		}
		s.log.Warn("stream: records failed; retrying from the first failed one",
			"failed", len(failed), "firstFailed", ev.Records[first].Change.SequenceNumber, "attempt", s.fails)
	default:
		s.fails++
		if retries >= 0 && s.fails > int(retries) {
			s.consume(n)
			s.fails = 0
			s.deadLetter(ev.Records, "retries exhausted")
			return
		}
		if s.cfg.Event.BisectBatchOnFunctionError && n > 1 {
			s.zone, s.limit = n, (n+1)/2
		}
		s.log.Warn("stream: batch failed; retrying", "records", n,
			"firstSequenceNumber", ev.Records[0].Change.SequenceNumber, "attempt", s.fails, "error", err.Error())
	}
	s.backoff()
}

// backoff sleeps before a retry. Called with mu held; it releases mu while
// it sleeps, so puts are recorded meanwhile.
func (s *Stream) backoff() {
	d := s.cfg.Backoff
	for i := 1; i < s.fails && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxBackoff)
	s.mu.Unlock()
	defer s.mu.Lock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.ctx.Done():
	}
}

// outcome reads Deliver's result: the index of the first failed record (-1:
// none) and the failed sequence numbers, or an error when the whole batch
// failed. A failure list naming no record of the batch is, as for Lambda, a
// failure of the whole batch.
func (s *Stream) outcome(recs []events.DynamoDBEventRecord, resp events.DynamoDBEventResponse, err error) (int, map[string]bool, error) {
	if err != nil {
		return -1, nil, err
	}
	if !s.cfg.Event.ReportBatchItemFailures || len(resp.BatchItemFailures) == 0 {
		return -1, nil, nil
	}
	index := make(map[string]int, len(recs))
	for i, r := range recs {
		index[r.Change.SequenceNumber] = i
	}
	first, failed := len(recs), map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		i, ok := index[f.ItemIdentifier]
		if !ok {
			return -1, nil, fmt.Errorf("batchItemFailures names %q, which is not a sequence number of the batch", f.ItemIdentifier)
		}
		failed[f.ItemIdentifier] = true
		first = min(first, i)
	}
	return first, failed, nil
}

// call runs Deliver, turning a panic into a failed batch as a crashed
// function would be.
func (s *Stream) call(ctx context.Context, ev events.DynamoDBEvent) (resp events.DynamoDBEventResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("deliver panicked: %v", p)
		}
	}()
	return s.cfg.Deliver(ctx, ev)
}
