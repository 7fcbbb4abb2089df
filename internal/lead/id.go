package lead

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// NewID returns a UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then
// random bits. Its text form sorts by creation time, so ids double as a
// rough timeline, and it is unguessable enough to appear in staff emails.
func NewID(now time.Time) string {
	var u [16]byte
	ms := uint64(now.UnixMilli())
	binary.BigEndian.PutUint64(u[:8], ms<<16)
	_, _ = rand.Read(u[6:]) // crypto/rand.Read never fails on supported platforms
	u[6] = 0x70 | u[6]&0x0f // version 7
	u[8] = 0x80 | u[8]&0x3f // variant 10
	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:], u[10:])
	return string(out[:])
}

// ShortID is the last eight characters of an id: random bits, enough for
// staff to tell leads apart in a subject line. (The first characters are
// the timestamp and repeat for leads a minute apart.)
func ShortID(id string) string {
	if len(id) < 8 {
		return id
	}
	return id[len(id)-8:]
}
