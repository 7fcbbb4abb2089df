package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
)

var at = time.Date(2026, 11, 28, 14, 3, 21, 123_000_000, time.UTC)

// Health markers: none may appear in an export without includeHealth.
const (
	medsMarker    = "MARKER-MEDS"
	historyMarker = "MARKER-HISTORY"
	messageMarker = "MARKER-MESSAGE"
	referMarker   = "MARKER-REFERRER-DR"
	dobMarker     = "1901-02-03"
)

func samples() []dynamo.Exported {
	consult := lead.Lead{ID: "019cb963-2f11-7a90-8c3e-5b2d7e9f1a22", Kind: lead.KindConsultation, Status: lead.StatusNew, CreatedAt: at,
		Consultation: &lead.Consultation{FirstName: "Sam", LastName: "=HYPERLINK(\"x\")", Email: "sam@example.com", Phone: "+14105550188",
			DateOfBirth: dobMarker, State: "MD", Concerns: []string{"ptsd", "ocd"}, PreviousTreatments: []string{"tms"},
			CurrentMedications: medsMarker, MedicalHistory: historyMarker, ReferringProvider: referMarker, Message: messageMarker,
			PreferredTimes: []string{"evening"}, InCrisis: true, ConsentToContact: true, AcknowledgedPrivacy: true},
		Attribution: lead.Attribution{UTMSource: "@news"},
		Consent:     lead.Consent{ConsentToContact: true, AcknowledgedPrivacy: true, At: at}}
	contact := lead.Lead{ID: "019cb963-0b4e-78c2-a4f6-a1b3d5e7f9a0", Kind: lead.KindContact, Status: "contacted", CreatedAt: at.Add(time.Minute),
		Contact: &lead.Contact{Name: "Jordan", Email: "jordan@example.com", Message: messageMarker + "-contact"}}
	return []dynamo.Exported{{Lead: consult, Marks: dynamo.Marks{NotifiedAt: at.Add(time.Second)}}, {Lead: contact}}
}

func write(t *testing.T, format string, health bool, leads []dynamo.Exported) string {
	t.Helper()
	var b bytes.Buffer
	w, err := New(&b, format, health)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range leads {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestHealthOnlyWhenAsked(t *testing.T) {
	for _, format := range []string{CSV, JSONL} {
		without := write(t, format, false, samples())
		with := write(t, format, true, samples())
		for _, m := range []string{medsMarker, historyMarker, messageMarker, referMarker, dobMarker, "ptsd", "tms", "inCrisis"} {
			if strings.Contains(without, m) {
				t.Errorf("%s without health holds %q:\n%s", format, m, without)
			}
			if !strings.Contains(with, m) {
				t.Errorf("%s with health lacks %q", format, m)
			}
		}
		if !strings.Contains(without, "sam@example.com") || !strings.Contains(without, "+14105550188") {
			t.Errorf("%s without health lacks the contact details:\n%s", format, without)
		}
	}
}

func TestCSV(t *testing.T) {
	rows, err := csv.NewReader(strings.NewReader(write(t, CSV, true, samples()))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || !reflect.DeepEqual(rows[0], Columns(true)) {
		t.Fatalf("rows = %q", rows)
	}
	get := func(row int, col string) string {
		for i, c := range rows[0] {
			if c == col {
				return rows[row][i]
			}
		}
		t.Fatalf("no column %s", col)
		return ""
	}
	for _, tt := range []struct {
		row       int
		col, want string
	}{
		{1, "lastName", `'=HYPERLINK("x")`}, // a formula stays text in a spreadsheet
		{1, "utmSource", "'@news"},
		{1, "phone", "+14105550188"}, // formatted by the pipeline: left as it is
		{1, "concerns", "ptsd;ocd"},
		{1, "inCrisis", "true"},
		{1, "receivedAt", "2026-11-28T14:03:21.123Z"},
		{1, "notifiedAt", "2026-11-28T14:03:22.123Z"},
		{2, "name", "Jordan"},
		{2, "status", "contacted"},
		{2, "notifiedAt", ""},
		{2, "concerns", ""},
	} {
		if got := get(tt.row, tt.col); got != tt.want {
			t.Errorf("row %d %s = %q, want %q", tt.row, tt.col, got, tt.want)
		}
	}
	empty := write(t, CSV, false, nil)
	if strings.TrimSpace(empty) != strings.Join(Columns(false), ",") {
		t.Errorf("empty CSV = %q, want the header", empty)
	}
}

func TestJSONL(t *testing.T) {
	out := write(t, JSONL, true, samples())
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first["inCrisis"] != true || first["lastName"] != `=HYPERLINK("x")` || !reflect.DeepEqual(first["concerns"], []any{"ptsd", "ocd"}) {
		t.Errorf("first = %v", first)
	}
	if len(first) != len(Columns(true)) {
		t.Errorf("%d keys, want %d", len(first), len(Columns(true)))
	}
	// Keys come in column order, so diffs of two exports line up.
	if !strings.HasPrefix(lines[1], `{"id":"019cb963-0b4e-78c2-a4f6-a1b3d5e7f9a0","kind":"contact","status":"contacted"`) {
		t.Errorf("second line = %s", lines[1])
	}
	if _, err := New(&bytes.Buffer{}, "xlsx", false); err == nil {
		t.Error("New(xlsx) = nil error")
	}
}
