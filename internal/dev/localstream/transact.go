package localstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// dynalite has no transactions. The proxy answers TransactWriteItems
// itself, for Put, Update and Delete items, with what the lead store needs
// of DynamoDB's semantics: all items apply or none does, and a refused
// condition cancels the transaction with a reason per item.
//
// How: transactions run one at a time (txMu). Each item is applied to
// dynalite in order as the single-item call it describes (PutItem,
// UpdateItem, DeleteItem, with its own condition), asking for the old
// item (ReturnValues ALL_OLD). When an item fails, the items already
// applied are undone in reverse order (the old item put back, or the new
// one deleted) and the client gets DynamoDB's answer:
// TransactionCanceledException with CancellationReasons,
// ConditionalCheckFailed at the failed item and None at the others.
//
// Limits of the emulation, none of which the store relies on: DynamoDB
// checks every condition before writing anything, so it can report more
// than one failed item, where the shim stops at the first; writes that
// are not transactions are not held off while a transaction runs, so an
// undo may overwrite one made meanwhile; ConditionCheck items,
// ClientRequestToken idempotency and ReturnValuesOnConditionCheckFailure
// are not emulated. Puts of a transaction on the watched table are
// recorded on the stream like PutItem's; updates and deletes are not.
const (
	targetPrefix     = "DynamoDB_20120810."
	transactTarget   = targetPrefix + "TransactWriteItems"
	maxTransactItems = 100
)

// txItem is one item of a transaction, as the client sent it.
type txItem struct {
	action string                     // PutItem, UpdateItem or DeleteItem
	params map[string]json.RawMessage // the item's parameters: TableName, Key or Item, expressions
	table  string
	key    json.RawMessage // the item's key, canonical JSON
}

// undo restores one applied item.
type undo struct {
	table string
	key   json.RawMessage
	old   json.RawMessage // nil: there was no item
}

// transact answers a TransactWriteItems request.
func (s *Stream) transact(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	r.Body.Close()
	if err != nil || len(body) > maxRequestBytes {
		writeDynamoError(w, http.StatusBadRequest, "ValidationException", "request body could not be read or is too large", nil)
		return
	}
	items, msg := parseTransaction(body)
	if msg != "" {
		writeDynamoError(w, http.StatusBadRequest, "ValidationException", msg, nil)
		return
	}

	s.txMu.Lock()
	defer s.txMu.Unlock()
	ctx := r.Context()
	seen := map[string]bool{}
	for i := range items {
		it := &items[i]
		if it.action == "PutItem" {
			if it.key, err = s.putKey(ctx, r.Header, *it); err != nil {
				s.log.Warn("transaction: cannot find the key of a put", "error", err.Error())
				writeDynamoError(w, http.StatusBadRequest, "ValidationException", err.Error(), nil)
				return
			}
		}
		id := it.table + "\x00" + string(it.key)
		if seen[id] {
			writeDynamoError(w, http.StatusBadRequest, "ValidationException",
				"Transaction request cannot include multiple operations on one item", nil)
			return
		}
		seen[id] = true
	}

	var applied []undo
	type putRecord struct {
		p   *put
		old json.RawMessage
	}
	var puts []putRecord
	for i, it := range items {
		status, answer, err := s.callDynamo(ctx, r.Header, it.action, withOldItem(it.params))
		if err != nil {
			s.rollback(ctx, r.Header, applied)
			s.log.Warn("transaction: DynamoDB request failed", "error", err.Error())
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		if status != http.StatusOK {
			if rbErr := s.rollback(ctx, r.Header, applied); rbErr != nil {
				writeDynamoError(w, http.StatusInternalServerError, "InternalServerError", "transaction could not be undone: "+rbErr.Error(), nil)
				return
			}
			if errorType(answer) == "ConditionalCheckFailedException" {
				writeDynamoError(w, http.StatusBadRequest, "TransactionCanceledException",
					cancelMessage(len(items), i), cancellationReasons(len(items), i))
				return
			}
			// Any other refusal (a bad expression, an item too large):
			// DynamoDB refuses the whole request with the same error.
			writeRaw(w, status, answer)
			return
		}
		var out struct {
			Attributes json.RawMessage
		}
		if err := json.Unmarshal(answer, &out); err != nil {
			s.rollback(ctx, r.Header, applied)
			writeDynamoError(w, http.StatusInternalServerError, "InternalServerError", "unreadable answer from dynalite", nil)
			return
		}
		old := out.Attributes
		if len(old) == 0 || bytes.Equal(bytes.TrimSpace(old), []byte("null")) {
			old = nil
		}
		applied = append(applied, undo{table: it.table, key: it.key, old: old})
		if it.action == "PutItem" && it.table == s.cfg.Table {
			puts = append(puts, putRecord{&put{item: it.params["Item"], requested: time.Now()}, old})
		}
	}
	// Records only for a transaction that stood, as DynamoDB Streams.
	for _, pr := range puts {
		s.record(pr.p, pr.old)
	}
	writeRaw(w, http.StatusOK, []byte(`{}`))
}

// parseTransaction reads a TransactWriteItems body; msg is DynamoDB's kind
// of complaint when it cannot be run.
func parseTransaction(body []byte) ([]txItem, string) {
	var req struct {
		TransactItems []map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, "request is not a TransactWriteItems request: " + err.Error()
	}
	if n := len(req.TransactItems); n == 0 || n > maxTransactItems {
		return nil, fmt.Sprintf("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: "+
			"Member must have length between 1 and %d (got %d)", maxTransactItems, n)
	}
	items := make([]txItem, 0, len(req.TransactItems))
	for i, ti := range req.TransactItems {
		if len(ti) != 1 {
			return nil, fmt.Sprintf("TransactItems[%d] must hold exactly one of Put, Update, Delete, ConditionCheck", i)
		}
		for kind, params := range ti {
			it := txItem{params: params}
			switch kind {
			case "Put":
				it.action = "PutItem"
			case "Update":
				it.action = "UpdateItem"
			case "Delete":
				it.action = "DeleteItem"
			case "ConditionCheck":
				return nil, "ConditionCheck items are not emulated by the local transaction shim (internal/dev/localstream)"
			default:
				return nil, fmt.Sprintf("TransactItems[%d]: unknown operation %q", i, kind)
			}
			if json.Unmarshal(params["TableName"], &it.table) != nil || it.table == "" {
				return nil, fmt.Sprintf("TransactItems[%d]: no TableName", i)
			}
			if it.action != "PutItem" {
				key, err := canonical(params["Key"])
				if err != nil {
					return nil, fmt.Sprintf("TransactItems[%d]: no Key", i)
				}
				it.key = key
			}
			items = append(items, it)
		}
	}
	return items, ""
}

// canonical re-encodes a JSON object with its keys sorted, so equal keys
// compare equal as bytes.
func canonical(raw json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || len(m) == 0 {
		return nil, errors.New("not a JSON object")
	}
	return json.Marshal(m)
}

// withOldItem returns the parameters of the single-item call: the same,
// without what only transactions take, and asking for the old item.
func withOldItem(params map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(params)+1)
	for k, v := range params {
		if k != "ReturnValuesOnConditionCheckFailure" {
			out[k] = v
		}
	}
	out["ReturnValues"] = json.RawMessage(`"ALL_OLD"`)
	return out
}

// putKey returns the key of a put's item, from its table's key schema.
func (s *Stream) putKey(ctx context.Context, h http.Header, it txItem) (json.RawMessage, error) {
	names, err := s.keyNames(ctx, h, it.table)
	if err != nil {
		return nil, err
	}
	var item map[string]json.RawMessage
	if err := json.Unmarshal(it.params["Item"], &item); err != nil {
		return nil, errors.New("a Put has no Item")
	}
	key := make(map[string]json.RawMessage, len(names))
	for _, n := range names {
		v, ok := item[n]
		if !ok {
			return nil, fmt.Errorf("One or more parameter values were invalid: Missing the key %s in the item", n)
		}
		key[n] = v
	}
	return json.Marshal(key)
}

// keyNames returns the key attributes of table, asking dynalite once.
// txMu is held.
func (s *Stream) keyNames(ctx context.Context, h http.Header, table string) ([]string, error) {
	if names, ok := s.txKeys[table]; ok {
		return names, nil
	}
	status, answer, err := s.callDynamo(ctx, h, "DescribeTable", map[string]json.RawMessage{"TableName": mustJSON(table)})
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("describe table %s: %s", table, errorType(answer))
	}
	var out struct {
		Table struct {
			KeySchema []struct{ AttributeName string }
		}
	}
	if err := json.Unmarshal(answer, &out); err != nil || len(out.Table.KeySchema) == 0 {
		return nil, fmt.Errorf("describe table %s: no key schema in the answer", table)
	}
	var names []string
	for _, k := range out.Table.KeySchema {
		names = append(names, k.AttributeName)
	}
	if s.txKeys == nil {
		s.txKeys = map[string][]string{}
	}
	s.txKeys[table] = names
	return names, nil
}

// rollback undoes applied items, newest first. It keeps going after a
// failure and returns the first.
func (s *Stream) rollback(ctx context.Context, h http.Header, applied []undo) error {
	// The client may have gone; the undo must still happen.
	ctx = context.WithoutCancel(ctx)
	var first error
	for i := len(applied) - 1; i >= 0; i-- {
		u := applied[i]
		action, params := "PutItem", map[string]json.RawMessage{"TableName": mustJSON(u.table), "Item": u.old}
		if u.old == nil {
			action, params = "DeleteItem", map[string]json.RawMessage{"TableName": mustJSON(u.table), "Key": u.key}
		}
		status, answer, err := s.callDynamo(ctx, h, action, params)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("%s answered %d %s", action, status, errorType(answer))
		}
		if err != nil {
			s.log.Error("transaction: undo failed; the table may hold part of a transaction", "table", u.table, "error", err.Error())
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// callDynamo sends one call to dynalite with the client's credentials
// headers (dynalite checks that a signature is present, not that it is
// valid) and returns its status and body.
func (s *Stream) callDynamo(ctx context.Context, h http.Header, action string, params map[string]json.RawMessage) (int, []byte, error) {
	body, err := json.Marshal(params)
	if err != nil {
		return 0, nil, fmt.Errorf("encode %s: %w", action, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for _, name := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		if v := h.Get(name); v != "" {
			req.Header.Set(name, v)
		}
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", targetPrefix+action)
	resp, err := s.transport.RoundTrip(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", action, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxRequestBytes))
	if err != nil {
		return 0, nil, fmt.Errorf("%s: read answer: %w", action, err)
	}
	return resp.StatusCode, answer, nil
}

// errorType is the short name of an error answer's __type, such as
// "ConditionalCheckFailedException".
func errorType(answer []byte) string {
	var e struct {
		Type string `json:"__type"`
	}
	_ = json.Unmarshal(answer, &e)
	if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
		return e.Type[i+1:]
	}
	return e.Type
}

type cancellationReason struct {
	Code    string
	Message string `json:",omitempty"`
}

func cancellationReasons(n, failed int) []cancellationReason {
	out := make([]cancellationReason, n)
	for i := range out {
		out[i].Code = "None"
	}
	out[failed] = cancellationReason{Code: "ConditionalCheckFailed", Message: "The conditional request failed"}
	return out
}

func cancelMessage(n, failed int) string {
	codes := make([]string, n)
	for i := range codes {
		codes[i] = "None"
	}
	codes[failed] = "ConditionalCheckFailed"
	return "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]"
}

// writeDynamoError answers as DynamoDB does: status, the JSON error with
// its __type, and the CRC32 the SDK checks.
func writeDynamoError(w http.ResponseWriter, status int, code, message string, reasons []cancellationReason) {
	body, _ := json.Marshal(struct {
		Type                string               `json:"__type"`
		Message             string               `json:"Message"`
		CancellationReasons []cancellationReason `json:"CancellationReasons,omitempty"`
	}{"com.amazonaws.dynamodb.v20120810#" + code, message, reasons})
	writeRaw(w, status, body)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func mustJSON(v string) json.RawMessage {
	b, _ := json.Marshal(v) // a string always encodes
	return b
}
