package staff

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// cursors turns the index key where a page ends into the opaque "next" of
// the list and back. A cursor is base64url(key || HMAC-SHA256(secret,
// status, kind, key)): clients cannot read meaning into it, and one that
// was altered, made up, or taken from another filter fails the HMAC, so
// no request can start a Query at a key of its own choosing.
type cursors struct{ secret []byte }

// maxCursor bounds a cursor's length before it is decoded: a real one is
// about 110 characters.
const maxCursor = 256

const cursorDomain = "leadpipe list cursor v1"

func (c cursors) sum(status lead.Status, kind lead.Kind, key []byte) []byte {
	m := hmac.New(sha256.New, c.secret)
	for _, part := range [][]byte{[]byte(cursorDomain), []byte(status), []byte(kind), key} {
		m.Write(part)
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

func (c cursors) encode(status lead.Status, kind lead.Kind, k dynamo.ListKey) string {
	key := []byte(k.ID + "|" + k.Queue)
	return base64.RawURLEncoding.EncodeToString(append(key, c.sum(status, kind, key)...))
}

var errBadCursor = errors.New("cursor fails its check")

// decode verifies a cursor for the list it is used with and returns its
// key, which is also checked for the index's shape.
func (c cursors) decode(status lead.Status, kind lead.Kind, s string) (dynamo.ListKey, error) {
	if len(s) > maxCursor {
		return dynamo.ListKey{}, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) <= sha256.Size {
		return dynamo.ListKey{}, errBadCursor
	}
	key, mac := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if !hmac.Equal(mac, c.sum(status, kind, key)) {
		return dynamo.ListKey{}, errBadCursor
	}
	id, queue, ok := strings.Cut(string(key), "|")
	k := dynamo.ListKey{ID: id, Queue: queue}
	if !ok || !k.Valid() {
		return dynamo.ListKey{}, errBadCursor
	}
	return k, nil
}
