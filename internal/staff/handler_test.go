package staff_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/clinicleads/leadpipe/internal/dynamo"
	"github.com/clinicleads/leadpipe/internal/lead"
)

// TestListPaging pages through 120 leads with every status filter, with
// and without the kind filter: every lead exactly once, in crisis first,
// newest first, one DynamoDB Query per page and nothing else.
func TestListPaging(t *testing.T) {
	f := newFixture(t)
	type seeded struct {
		id     string
		status lead.Status
		kind   lead.Kind
		crisis bool
		at     time.Time
	}
	var all []seeded
	for i := range 120 {
		at := t0.Add(time.Duration(i) * time.Minute)
		// 20 leads per status: a third contacts, some consultations in crisis.
		status, j := lead.Statuses[i%len(lead.Statuses)], i/len(lead.Statuses)
		var l lead.Lead
		if j%3 == 0 {
			l = contact(at, status)
		} else {
			l = consultation(at, status, j%4 == 1)
		}
		f.put(t, l)
		all = append(all, seeded{l.ID, status, l.Kind, l.InCrisis(), at})
	}
	for _, status := range append([]lead.Status{""}, lead.Statuses...) {
		for _, kind := range []lead.Kind{"", lead.KindContact, lead.KindConsultation} {
			t.Run(fmt.Sprintf("status=%s,kind=%s", status, kind), func(t *testing.T) {
				want := lead.StatusNew // the default
				if status != "" {
					want = status
				}
				var expect []seeded
				for _, s := range all {
					if s.status == want && (kind == "" || s.kind == kind) {
						expect = append(expect, s)
					}
				}
				slices.SortFunc(expect, func(a, b seeded) int {
					if a.crisis != b.crisis {
						if a.crisis {
							return -1
						}
						return 1
					}
					return b.at.Compare(a.at)
				})
				crises := 0
				for _, s := range expect {
					if s.crisis {
						crises++
					}
				}
				if len(expect) < 6 || (kind != lead.KindContact && crises == 0) {
					t.Fatalf("only %d leads (%d in crisis) to page through; the test proves little", len(expect), crises)
				}
				query := map[string]string{"limit": "3"}
				if status != "" {
					query["status"] = string(status)
				}
				if kind != "" {
					query["kind"] = string(kind)
				}
				var got []string
				crisisSeen, calmSeen := 0, false
				for page := 0; ; page++ {
					if page > 40 {
						t.Fatal("more than 40 pages")
					}
					queries, total := f.calls.Queries.Load(), f.calls.Total()
					resp := f.do(t, listReq(query))
					if resp.StatusCode != 200 {
						t.Fatalf("page %d: status %d %s", page, resp.StatusCode, resp.Body)
					}
					if dq, dt := f.calls.Queries.Load()-queries, f.calls.Total()-total; dq != 1 || dt != 1 {
						t.Errorf("page %d: %d Queries and %d DynamoDB calls, want exactly one Query", page, dq, dt)
					}
					body := decode[listJSON](t, resp)
					if len(body.Leads) > 3 {
						t.Fatalf("page %d has %d leads, limit 3", page, len(body.Leads))
					}
					for _, r := range body.Leads {
						got = append(got, r.ID)
						if r.Status != string(want) || (kind != "" && r.Kind != string(kind)) {
							t.Errorf("row %s is %s/%s", r.ID, r.Status, r.Kind)
						}
						if r.InCrisis {
							crisisSeen++
							if calmSeen {
								t.Errorf("crisis lead %s listed after a lead not in crisis", r.ID)
							}
						} else {
							calmSeen = true
						}
					}
					if body.Next == nil {
						break
					}
					query["cursor"] = *body.Next
				}
				var ids []string
				for _, s := range expect {
					ids = append(ids, s.id)
				}
				if !reflect.DeepEqual(got, ids) {
					t.Errorf("listed %d leads\n%v\nwant %d\n%v", len(got), got, len(ids), ids)
				}
			})
		}
	}
}

func TestListRowShape(t *testing.T) {
	f := newFixture(t)
	l := f.put(t, consultation(t0, lead.StatusNew, true))
	c := f.put(t, contact(t0.Add(time.Minute), lead.StatusNew))
	if err := f.leads.MarkNotified(context.Background(), c.ID, t0); err != nil {
		t.Fatal(err)
	}
	resp := f.do(t, listReq(nil))
	body := decode[listJSON](t, resp)
	if resp.StatusCode != 200 || len(body.Leads) != 2 || body.Next != nil {
		t.Fatalf("list = %d %s", resp.StatusCode, resp.Body)
	}
	r := body.Leads[0]
	if r.ID != l.ID || r.ShortID != lead.ShortID(l.ID) || r.Kind != "consultation" || r.KindLabel != "Consultation" ||
		r.Status != "new" || r.StatusLabel != "New" || r.ReceivedAt != "2026-11-28T14:03:21.123Z" ||
		r.ReceivedLocal != "Sat 28 Nov 2026 09:03 EST" || r.DisplayName != "Sam Rivera" || !r.InCrisis || r.Notified {
		t.Errorf("crisis row = %+v", r)
	}
	if r := body.Leads[1]; r.ID != c.ID || r.DisplayName != "Jordan Avery" || r.InCrisis || !r.Notified || r.KindLabel != "Contact" {
		t.Errorf("contact row = %+v", r)
	}
	for _, private := range []string{"sam@example.com", "Sertraline", "+1410", "Hypertension", "insurance"} {
		if strings.Contains(resp.Body, private) {
			t.Errorf("list body holds %q", private)
		}
	}
}

func TestListValidation(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		query  map[string]string
		fields []string
	}{
		{map[string]string{"status": "open"}, []string{"status"}},
		{map[string]string{"kind": "chat"}, []string{"kind"}},
		{map[string]string{"limit": "0"}, []string{"limit"}},
		{map[string]string{"limit": "101"}, []string{"limit"}},
		{map[string]string{"limit": "ten"}, []string{"limit"}},
		{map[string]string{"status": "NEW", "kind": "Contact", "limit": "-1"}, []string{"status", "kind", "limit"}},
	} {
		before := f.calls.Total()
		resp := f.do(t, listReq(tt.query))
		e := decode[errorJSON](t, resp)
		var fields []string
		for _, fe := range e.Fields {
			fields = append(fields, fe.Field)
		}
		if resp.StatusCode != 422 || e.Error != "validation_failed" || !reflect.DeepEqual(fields, tt.fields) {
			t.Errorf("%v: %d %s, want 422 naming %v", tt.query, resp.StatusCode, resp.Body, tt.fields)
		}
		if f.calls.Total() != before {
			t.Errorf("%v: a refused query reached DynamoDB", tt.query)
		}
	}
	if resp := f.do(t, listReq(map[string]string{"limit": "100"})); resp.StatusCode != 200 {
		t.Errorf("limit 100: %d %s", resp.StatusCode, resp.Body)
	}
}

// A cursor is good only as it was given out: for its own filters,
// unaltered. Anything else is 400 and never reaches DynamoDB.
func TestTamperedCursor(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		f.put(t, contact(t0.Add(time.Duration(i)*time.Minute), lead.StatusNew))
	}
	first := decode[listJSON](t, f.do(t, listReq(map[string]string{"limit": "2"})))
	if first.Next == nil {
		t.Fatal("no next cursor")
	}
	good := *first.Next
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for name, q := range map[string]map[string]string{
		"altered at the start":  {"cursor": flip(good, 0)},
		"altered in the middle": {"cursor": flip(good, len(good)/2)},
		"altered at the end":    {"cursor": flip(good, len(good)-1)},
		"truncated":             {"cursor": good[:len(good)-4]},
		"for another status":    {"cursor": good, "status": "spam"},
		"for another kind":      {"cursor": good, "kind": "contact"},
		"not base64":            {"cursor": "!!!"},
		"made up":               {"cursor": "eyJwayI6IkxFQUQjMSJ9"},
		"very long":             {"cursor": strings.Repeat("A", 5000)},
	} {
		t.Run(name, func(t *testing.T) {
			before := f.calls.Total()
			resp := f.do(t, listReq(q))
			if e := decode[errorJSON](t, resp); resp.StatusCode != 400 || e.Error != "malformed_body" {
				t.Errorf("status %d %s, want 400 malformed_body", resp.StatusCode, resp.Body)
			}
			if f.calls.Total() != before {
				t.Error("a bad cursor reached DynamoDB")
			}
		})
	}
	if resp := f.do(t, listReq(map[string]string{"limit": "2", "cursor": good})); resp.StatusCode != 200 {
		t.Errorf("the good cursor: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestDetail(t *testing.T) {
	f := newFixture(t)
	l := f.put(t, consultation(t0, lead.StatusNew, true))
	if err := f.leads.MarkNotified(context.Background(), l.ID, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	resp := f.do(t, showReq(l.ID))
	if resp.StatusCode != 200 {
		t.Fatalf("detail: %d %s", resp.StatusCode, resp.Body)
	}
	d := decode[detailJSON](t, resp)
	if d.ID != l.ID || d.ShortID != lead.ShortID(l.ID) || d.Kind != "consultation" || d.Status != "new" || d.Version != 1 ||
		d.DisplayName != "Sam Rivera" || !d.InCrisis || d.ReceivedAt != "2026-11-28T14:03:21.123Z" ||
		d.NotifiedAt == nil || *d.NotifiedAt != "2026-11-28T14:03:22.123Z" || d.ConfirmedAt != nil {
		t.Errorf("detail header = %+v", d)
	}
	values := map[string]string{}
	var titles []string
	for _, s := range d.Sections {
		titles = append(titles, s.Title)
		for _, r := range s.Rows {
			if r.Label == "" {
				t.Errorf("row %s has no label", r.Key)
			}
			values[r.Key] = r.Value
		}
	}
	if !reflect.DeepEqual(titles, []string{"How to reach them", "Their answers"}) {
		t.Errorf("sections = %v", titles)
	}
	for k, want := range map[string]string{
		"firstName": "Sam", "email": "sam@example.com", "phone": "+14105550188", "preferredContact": "Text message",
		"preferredTimes": "Morning, Evening", "smsConsent": "Yes", "state": "MD", "inCrisis": "Yes", "dateOfBirth": "1988-04-12",
		"concerns": "Depression, PTSD", "previousTreatments": "SSRI, TMS", "currentMedications": "Sertraline 50mg",
		"medicalHistory": "Hypertension", "hearAbout": "Referred by a provider", "referringProvider": "Dr. Lee",
		"message": "Looking forward", "consentToContact": "Yes", "acknowledgedPrivacy": "Yes",
	} {
		if values[k] != want {
			t.Errorf("row %s = %q, want %q", k, values[k], want)
		}
	}
	if c := d.Consent; !c.ConsentToContact || !c.AcknowledgedPrivacy || !c.SMSConsent || c.ClientIP != "203.0.113.7" ||
		c.UserAgent != "form-agent" || c.At != "2026-11-28T14:03:21.123Z" || c.LandingPage != "https://clinic.example/c" {
		t.Errorf("consent = %+v", c)
	}
	if a := d.Attribution; a["utmSource"] != "google" || a["utmCampaign"] != "fall" || a["referrer"] != "https://search.example/" {
		t.Errorf("attribution = %v", a)
	}
	if !reflect.DeepEqual(d.AllowedStatuses, []string{"contacted", "not_a_fit", "spam"}) {
		t.Errorf("allowedStatuses = %v", d.AllowedStatuses)
	}
	if d.History == nil || d.Notes == nil || len(d.History)+len(d.Notes) != 0 {
		t.Errorf("history, notes = %v, %v; want empty lists", d.History, d.Notes)
	}
	if len(d.Audit) != 1 || d.Audit[0].Action != "viewed" || d.Audit[0].Actor.Sub != staffClaims["sub"] ||
		d.Audit[0].Actor.Email != "staff@clinic.test" || d.Audit[0].SourceIP != "198.51.100.23" || d.Audit[0].UserAgent != "Mozilla/5.0 (test)" {
		t.Errorf("audit after one view = %+v", d.Audit)
	}
	// A second view adds a second entry, newest first.
	d = decode[detailJSON](t, f.do(t, showReq(l.ID)))
	if len(d.Audit) != 2 || d.Audit[0].At <= d.Audit[1].At {
		t.Errorf("audit after two views = %+v", d.Audit)
	}

	// A contact lead has a Message section.
	c := f.put(t, contact(t0, lead.StatusNew))
	d = decode[detailJSON](t, f.do(t, showReq(c.ID)))
	if len(d.Sections) != 2 || d.Sections[1].Title != "Message" || d.Sections[1].Rows[0].Value != "Do you take my insurance?" ||
		d.Sections[0].Rows[0].Key != "name" || d.DisplayName != "Jordan Avery" {
		t.Errorf("contact detail sections = %+v", d.Sections)
	}
}

func TestNotFound(t *testing.T) {
	f := newFixture(t)
	unknown := lead.NewID(t0)
	for _, req := range []struct {
		name string
		id   string
		dyn  bool // whether DynamoDB is asked
	}{
		{"unknown id", unknown, true},
		{"not an id", "LEAD#x", false},
		{"upper case", strings.ToUpper(unknown), false},
	} {
		for _, r := range []struct {
			name string
			resp func() (int, string)
		}{
			{"GET", func() (int, string) { x := f.do(t, showReq(req.id)); return x.StatusCode, x.Body }},
			{"PATCH", func() (int, string) {
				x := f.do(t, patchReq(req.id, `{"status":"contacted","version":1}`))
				return x.StatusCode, x.Body
			}},
		} {
			before := f.calls.Total()
			status, b := r.resp()
			if status != 404 || !strings.Contains(b, `"not_found"`) {
				t.Errorf("%s %s: %d %s, want 404", r.name, req.name, status, b)
			}
			if asked := f.calls.Total() != before; asked != req.dyn {
				t.Errorf("%s %s: DynamoDB asked = %v, want %v", r.name, req.name, asked, req.dyn)
			}
		}
	}
	if n := len(f.tbl.Items(t, f.tbl.Name, "audit")); n != 0 {
		t.Errorf("%d audit entries for leads that do not exist", n)
	}
}

// TestTransitions tries every pair of statuses: the moves the workflow
// allows are made, with history and an audit entry; the others are 409 and
// change nothing.
func TestTransitions(t *testing.T) {
	f := newFixture(t)
	for _, from := range lead.Statuses {
		for _, to := range lead.Statuses {
			t.Run(string(from)+"->"+string(to), func(t *testing.T) {
				l := f.put(t, contact(t0, from))
				if from == lead.StatusSpam {
					l.ExpiresAt = t0.Add(7 * 24 * time.Hour)
				}
				before := f.tbl.Lead(t, l.ID)
				resp := f.do(t, patchReq(l.ID, body(string(to), 1, nil)))
				if !lead.CanMove(from, to) {
					if e := decode[errorJSON](t, resp); resp.StatusCode != 409 || e.Error != "conflict" {
						t.Fatalf("%d %s, want 409 conflict", resp.StatusCode, resp.Body)
					}
					if after := f.tbl.Lead(t, l.ID); !reflect.DeepEqual(after, before) {
						t.Error("a refused move changed the lead")
					}
					if trail, _ := f.staff.Audit(context.Background(), l.ID); len(trail) != 0 {
						t.Errorf("a refused move left audit entries %+v", trail)
					}
					return
				}
				if resp.StatusCode != 200 {
					t.Fatalf("%d %s, want 200", resp.StatusCode, resp.Body)
				}
				d := decode[detailJSON](t, resp)
				if d.Status != string(to) || d.Version != 2 || len(d.History) != 1 || d.History[0].From != string(from) ||
					d.History[0].To != string(to) || d.History[0].By != "staff@clinic.test" {
					t.Errorf("answer = status %s v%d history %+v", d.Status, d.Version, d.History)
				}
				if len(d.Audit) != 1 || d.Audit[0].Action != "status_changed" || d.Audit[0].From != string(from) || d.Audit[0].To != string(to) {
					t.Errorf("audit = %+v", d.Audit)
				}
				var allowed []string
				for _, s := range lead.Statuses {
					if lead.CanMove(to, s) {
						allowed = append(allowed, string(s))
					}
				}
				if !slices.Equal(d.AllowedStatuses, allowed) {
					t.Errorf("allowedStatuses = %v, want %v", d.AllowedStatuses, allowed)
				}
				got, _, err := f.staff.LeadForStaff(context.Background(), l.ID)
				if err != nil || got.Status != to || got.Version != 2 {
					t.Errorf("stored = %s v%d, %v", got.Status, got.Version, err)
				}
				wantExpiry := l.ExpiresAt
				if from == lead.StatusSpam && to == lead.StatusNew {
					wantExpiry = l.CreatedAt.Add(365 * 24 * time.Hour) // restored from 7 days
				}
				if got.ExpiresAt.Unix() != wantExpiry.Unix() {
					t.Errorf("expiresAt = %v, want %v", got.ExpiresAt, wantExpiry)
				}
			})
		}
	}
}

func TestStaleVersion(t *testing.T) {
	f := newFixture(t)
	l := f.put(t, consultation(t0, lead.StatusNew, false))
	if resp := f.do(t, patchReq(l.ID, body("contacted", 1, nil))); resp.StatusCode != 200 {
		t.Fatalf("first change: %d %s", resp.StatusCode, resp.Body)
	}
	before := f.tbl.Lead(t, l.ID)
	trail := len(f.tbl.Items(t, f.tbl.Name, "audit"))
	for _, b := range []string{body("scheduled", 1, nil), body("", 1, ptr("late note")), body("scheduled", 7, nil)} {
		resp := f.do(t, patchReq(l.ID, b))
		if e := decode[errorJSON](t, resp); resp.StatusCode != 412 || e.Error != "stale_version" || e.Version != 2 {
			t.Errorf("%s: %d %s, want 412 with version 2", b, resp.StatusCode, resp.Body)
		}
	}
	if after := f.tbl.Lead(t, l.ID); !reflect.DeepEqual(after, before) {
		t.Error("a stale change altered the lead")
	}
	if n := len(f.tbl.Items(t, f.tbl.Name, "audit")); n != trail {
		t.Errorf("audit entries %d after stale changes, want %d", n, trail)
	}
}

// racing is the real store with someone else's change slipped in between
// the handler's read and its write.
type racing struct {
	*dynamo.Staff
	other dynamo.Change
}

func (r *racing) Change(ctx context.Context, c dynamo.Change) (int, error) {
	if _, err := r.Staff.Change(ctx, r.other); err != nil {
		return 0, err
	}
	return r.Staff.Change(ctx, c)
}

// Two staff at once: the one whose change lands second gets 412 with the
// version the first made, and their change is not written.
func TestConcurrentChangeIsStale(t *testing.T) {
	f := newFixture(t)
	l := f.put(t, contact(t0, lead.StatusNew))
	other := lead.Actor{Subject: "other", Email: "other@clinic.test"}
	f.h = f.handler(&racing{Staff: f.staff, other: dynamo.Change{LeadID: l.ID, Seen: 1, From: lead.StatusNew, Note: "I am on it", At: t0, Actor: other}})
	resp := f.do(t, patchReq(l.ID, body("spam", 1, nil)))
	if e := decode[errorJSON](t, resp); resp.StatusCode != 412 || e.Version != 2 {
		t.Fatalf("%d %s, want 412 version 2", resp.StatusCode, resp.Body)
	}
	got, _, _ := f.staff.LeadForStaff(context.Background(), l.ID)
	if got.Status != lead.StatusNew || got.Version != 2 || len(got.Notes) != 1 || got.Notes[0].By != other {
		t.Errorf("lead = %s v%d notes %+v; want only the other change", got.Status, got.Version, got.Notes)
	}
	trail, _ := f.staff.Audit(context.Background(), l.ID)
	if len(trail) != 1 || trail[0].Actor != other {
		t.Errorf("trail = %+v, want only the other change's entry", trail)
	}
}

func TestNote(t *testing.T) {
	f := newFixture(t)
	l := f.put(t, consultation(t0, lead.StatusNew, false))
	const text = "Left a voicemail;\r\nwill try again at 4pm.  "
	d := decode[detailJSON](t, f.do(t, patchReq(l.ID, body("", 1, ptr(text)))))
	if d.Status != "new" || d.Version != 2 || len(d.Notes) != 1 || d.Notes[0].Text != "Left a voicemail;\nwill try again at 4pm." ||
		d.Notes[0].By != "staff@clinic.test" || len(d.History) != 0 {
		t.Errorf("after a note: %s v%d notes %+v history %+v", d.Status, d.Version, d.Notes, d.History)
	}
	if actions(d.Audit) != "[note_added]" {
		t.Errorf("audit = %s", actions(d.Audit))
	}
	// Move and note together; then view: the trail shows all of it.
	d = decode[detailJSON](t, f.do(t, patchReq(l.ID, body("contacted", 2, ptr(strings.Repeat("é", lead.MaxNoteLength))))))
	if d.Status != "contacted" || d.Version != 3 || len(d.Notes) != 2 || len(d.History) != 1 {
		t.Errorf("after move+note: %s v%d, %d notes, %d history", d.Status, d.Version, len(d.Notes), len(d.History))
	}
	d = decode[detailJSON](t, f.do(t, showReq(l.ID)))
	got := actions(d.Audit)
	if got != "[viewed status_changed note_added note_added]" && got != "[viewed note_added status_changed note_added]" {
		t.Errorf("audit = %s", got)
	}
	for _, item := range f.tbl.Items(t, f.tbl.Name, "audit") {
		if _, ok := item["expiresAt"]; ok {
			t.Error("an audit entry has expiresAt")
		}
		for k, v := range item {
			if s, ok := v.(*types.AttributeValueMemberS); ok && (strings.Contains(s.Value, "voicemail") || strings.Contains(s.Value, "éé") ||
				strings.Contains(s.Value, "Sertraline") || strings.Contains(s.Value, "Sam")) {
				t.Errorf("audit attribute %s holds a note or an answer", k)
			}
		}
	}
}

func TestPatchValidation(t *testing.T) {
	f := newFixture(t)
	l := f.put(t, contact(t0, lead.StatusNew))
	before := f.tbl.Lead(t, l.ID)
	for _, tt := range []struct {
		name, body, contentType string
		status                  int
		code                    string
		fields                  []string
	}{
		{"a note of 2001 characters", body("", 1, ptr(strings.Repeat("a", lead.MaxNoteLength+1))), "", 422, "validation_failed", []string{"note"}},
		{"an empty note", body("", 1, ptr(" \n ")), "", 422, "validation_failed", []string{"note"}},
		{"a note with a control character", body("", 1, ptr("a\x07b")), "", 422, "validation_failed", []string{"note"}},
		{"a note that is not text", `{"note":5,"version":1}`, "", 422, "validation_failed", []string{"note"}},
		{"unknown status", body("done", 1, nil), "", 422, "validation_failed", []string{"status"}},
		{"missing version", `{"status":"contacted"}`, "", 422, "validation_failed", []string{"version"}},
		{"version as text", `{"status":"contacted","version":"1"}`, "", 422, "validation_failed", []string{"version"}},
		{"fractional version", `{"status":"contacted","version":1.5}`, "", 422, "validation_failed", []string{"version"}},
		{"version zero", `{"status":"contacted","version":0}`, "", 422, "validation_failed", []string{"version"}},
		{"neither status nor note", `{"version":1}`, "", 422, "validation_failed", []string{"status"}},
		{"several at once", `{"status":"x","note":""}`, "", 422, "validation_failed", []string{"status", "note", "version"}},
		{"unknown field", `{"status":"contacted","version":1,"priority":"high"}`, "", 400, "unknown_field", nil},
		{"repeated field", `{"status":"contacted","status":"spam","version":1}`, "", 400, "malformed_body", nil},
		{"not JSON", `status=contacted`, "", 400, "malformed_body", nil},
		{"two objects", `{"version":1,"note":"a"}{}`, "", 400, "malformed_body", nil},
		{"an array", `[]`, "", 400, "malformed_body", nil},
		{"empty", ``, "", 400, "malformed_body", nil},
		{"form encoded", `status=contacted&version=1`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", nil},
		{"too large", body("", 1, ptr(strings.Repeat("a", 20000))), "", 413, "body_too_large", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := patchReq(l.ID, tt.body)
			if tt.contentType != "" {
				req.Headers["content-type"] = tt.contentType
			}
			resp := f.do(t, req)
			e := decode[errorJSON](t, resp)
			var fields []string
			for _, fe := range e.Fields {
				fields = append(fields, fe.Field)
			}
			if resp.StatusCode != tt.status || e.Error != tt.code || !slices.Equal(fields, tt.fields) {
				t.Errorf("%d %s, want %d %s naming %v", resp.StatusCode, resp.Body, tt.status, tt.code, tt.fields)
			}
		})
	}
	if after := f.tbl.Lead(t, l.ID); !reflect.DeepEqual(after, before) {
		t.Error("refused changes altered the lead")
	}
	if n := len(f.tbl.Items(t, f.tbl.Name, "audit")); n != 0 {
		t.Errorf("%d audit entries after refused changes", n)
	}
	// 2000 characters is fine, and base64 bodies (as API Gateway may send) are read.
	req := patchReq(l.ID, base64.StdEncoding.EncodeToString([]byte(body("", 1, ptr(strings.Repeat("a", lead.MaxNoteLength))))))
	req.IsBase64Encoded = true
	if resp := f.do(t, req); resp.StatusCode != 200 {
		t.Errorf("a note of 2000 characters: %d %s", resp.StatusCode, resp.Body)
	}
}

// failingView is the real store except that audit entries cannot be written.
type failingView struct{ *dynamo.Staff }

func (failingView) RecordView(context.Context, lead.AuditEntry) error {
	return lead.Unavailable(fmt.Errorf("put audit: throttled"))
}

// When the view cannot be recorded, nothing of the lead is shown.
func TestViewFailsClosed(t *testing.T) {
	f := newFixture(t)
	l := f.put(t, consultation(t0, lead.StatusNew, false))
	f.h = f.handler(failingView{f.staff})
	resp := f.do(t, showReq(l.ID))
	if resp.StatusCode != 503 || resp.Headers["Retry-After"] == "" {
		t.Errorf("%d %v, want 503 with Retry-After", resp.StatusCode, resp.Headers)
	}
	for _, private := range []string{"Sam", "Rivera", "Sertraline", "sam@example.com", l.ID} {
		if strings.Contains(resp.Body, private) {
			t.Errorf("the 503 body holds %q: %s", private, resp.Body)
		}
	}
}

// Nothing anyone typed, in the forms or in a note, reaches the logs.
func TestLogsHoldNoContent(t *testing.T) {
	f := newFixture(t)
	l := f.put(t, consultation(t0, lead.StatusNew, true))
	f.do(t, listReq(nil))
	f.do(t, showReq(l.ID))
	f.do(t, patchReq(l.ID, body("contacted", 1, ptr("Discussed the dosage plan"))))
	f.do(t, patchReq(l.ID, body("contacted", 1, ptr("Discussed the dosage plan")))) // stale
	f.do(t, patchReq(l.ID, `{"note":"`+strings.Repeat("x", 2001)+`","version":2}`))
	f.h = f.handler(failingView{f.staff})
	f.do(t, showReq(l.ID))
	logs := f.logs.String()
	if !strings.Contains(logs, l.ID) || !strings.Contains(logs, "lead changed") {
		t.Fatalf("logs do not mention the lead; the test proves nothing:\n%s", logs)
	}
	for _, private := range []string{"dosage", "Sam", "Rivera", "Sertraline", "sam@example.com", "+1410", "xxxxxxxx", "Hypertension"} {
		if strings.Contains(logs, private) {
			t.Errorf("logs hold %q", private)
		}
	}
}

func TestPatchAnswerKeepsUnchangedParts(t *testing.T) {
	f := newFixture(t)
	l := f.put(t, consultation(t0, lead.StatusNew, true))
	viewed := decode[detailJSON](t, f.do(t, showReq(l.ID)))
	changed := decode[detailJSON](t, f.do(t, patchReq(l.ID, body("contacted", 1, nil))))
	reread := decode[detailJSON](t, f.do(t, showReq(l.ID)))
	// What PATCH answers is what a fresh read shows (but the audit trail,
	// which the second view extends).
	changed.Audit, reread.Audit = nil, nil
	if !reflect.DeepEqual(changed, reread) {
		t.Errorf("PATCH answered\n%+v\na fresh read shows\n%+v", changed, reread)
	}
	if !reflect.DeepEqual(viewed.Sections, changed.Sections) || viewed.Consent != changed.Consent {
		t.Error("PATCH changed the lead's answers")
	}
	if strconv.Itoa(changed.Version) != "2" {
		t.Errorf("version = %d", changed.Version)
	}
}
