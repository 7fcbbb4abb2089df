package staff

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/clinicleads/leadpipe/internal/httpapi"
	"github.com/clinicleads/leadpipe/internal/lead"
	"golang.org/x/text/unicode/norm"
)

// maxPatchBytes bounds a PATCH body: a note of 2000 characters, each up
// to 4 bytes and escaped in JSON, and a little more.
const maxPatchBytes = 16 << 10

// patch is a change a staff member asks for.
type patch struct {
	Status  lead.Status // "" when not moving
	Note    string      // "" when not adding one; normalised
	Version int
}

// decodePatch reads {"status"?, "note"?, "version"} strictly: JSON only,
// no unknown or repeated keys, each value of its type. Field problems are
// reported together as validation_failed.
func decodePatch(req events.APIGatewayV2HTTPRequest) (patch, error) {
	body, err := readJSON(req)
	if err != nil {
		return patch{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return patch{}, lead.Errorf(lead.CodeMalformed, "the change must be sent as one JSON object")
	}
	raw := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return patch{}, lead.Errorf(lead.CodeMalformed, "the change is not valid JSON")
		}
		key, _ := tok.(string)
		switch key {
		case "status", "note", "version":
		default:
			return patch{}, &lead.Error{Code: lead.CodeUnknownField, Field: key, Message: "the change has a field we do not know"}
		}
		if _, dup := raw[key]; dup {
			return patch{}, lead.Errorf(lead.CodeMalformed, "a field appears twice: %s", key)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return patch{}, lead.Errorf(lead.CodeMalformed, "the change is not valid JSON")
		}
		raw[key] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return patch{}, lead.Errorf(lead.CodeMalformed, "the change is not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return patch{}, lead.Errorf(lead.CodeMalformed, "the change must be one JSON object and nothing else")
	}

	var p patch
	var fields []lead.FieldError
	bad := func(field, msg string) { fields = append(fields, lead.FieldError{Field: field, Message: msg}) }
	if v, ok := raw["status"]; ok {
		var s string
		if json.Unmarshal(v, &s) != nil || !lead.Status(s).Valid() {
			bad("status", "must be one of "+statusNames())
		}
		p.Status = lead.Status(s)
	}
	if v, ok := raw["note"]; ok {
		var s string
		if json.Unmarshal(v, &s) != nil {
			bad("note", "must be text")
		} else if p.Note, err = cleanNote(s); err != nil {
			bad("note", err.Error())
		}
	}
	if v, ok := raw["version"]; !ok {
		bad("version", "is required: the version of the lead you saw")
	} else if n, err := strconv.Atoi(string(v)); err != nil || n < 1 {
		bad("version", "must be a whole number of at least 1")
	} else {
		p.Version = n
	}
	_, hasStatus := raw["status"]
	_, hasNote := raw["note"]
	if !hasStatus && !hasNote {
		bad("status", "send a new status, a note, or both")
	}
	if fields != nil {
		return patch{}, &lead.Error{Code: lead.CodeInvalid, Message: "some fields need another look", Fields: fields}
	}
	return p, nil
}

func statusNames() string {
	names := make([]string, len(lead.Statuses))
	for i, s := range lead.Statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// cleanNote normalises a note as the forms' free text is (NFC, line
// breaks as "\n", trimmed) and checks it: not empty, at most
// lead.MaxNoteLength characters, no control or invisible formatting
// characters besides line breaks and tabs.
func cleanNote(s string) (string, error) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSpace(norm.NFC.String(s))
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", errors.New("must not be empty")
	case n > lead.MaxNoteLength:
		return "", fmt.Errorf("must be at most %d characters (it has %d)", lead.MaxNoteLength, n)
	}
	for _, r := range s {
		if r == '\n' || r == '\t' || r == '\u200d' || r == '\u200c' {
			continue
		}
		if r == utf8.RuneError || unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r) ||
			unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) {
			return "", errors.New("contains a character that cannot be stored; please use plain text")
		}
	}
	return s, nil
}

// readJSON returns a JSON request body, decoded from base64 when API
// Gateway encoded it.
func readJSON(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	mediaType, params, err := mime.ParseMediaType(httpapi.Header(req, "Content-Type"))
	if err != nil || mediaType != "application/json" {
		return nil, lead.Errorf(lead.CodeUnsupportedMedia, "please send the change as application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, lead.Errorf(lead.CodeUnsupportedMedia, "please send the change as application/json in UTF-8")
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		if len(req.Body) > base64.StdEncoding.EncodedLen(maxPatchBytes) {
			return nil, lead.Errorf(lead.CodeTooLarge, "the change is too large")
		}
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return nil, lead.Errorf(lead.CodeMalformed, "the change's encoding is broken")
		}
	}
	if len(body) > maxPatchBytes {
		return nil, lead.Errorf(lead.CodeTooLarge, "the change is too large")
	}
	if !utf8.Valid(body) {
		return nil, lead.Errorf(lead.CodeMalformed, "the change must be UTF-8 text")
	}
	return body, nil
}
