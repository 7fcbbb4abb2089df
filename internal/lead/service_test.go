package lead

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// memStore is an in-memory Store that implements the documented Claim
// semantics exactly. The hooks, when set, run first and can fail a call.
type memStore struct {
	mu     sync.Mutex
	claims map[string]Claim
	leads  map[string]Lead
	puts   int // calls to Put, stored or not

	onClaim func(Claim) error
	onPut   func(Lead) error
}

func newMemStore() *memStore {
	return &memStore{claims: map[string]Claim{}, leads: map[string]Lead{}}
}

func (m *memStore) Claim(ctx context.Context, c Claim) (Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.onClaim != nil {
		if err := m.onClaim(c); err != nil {
			return Claim{}, err
		}
	}
	if held, ok := m.claims[c.Key]; ok && held.ExpiresAt.After(c.CreatedAt) {
		return held, nil
	}
	m.claims[c.Key] = c
	return c, nil
}

func (m *memStore) HeldClaim(_ context.Context, key string, now time.Time) (Claim, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	held, ok := m.claims[key]
	return held, ok && !held.ExpiresAt.Before(now), nil
}

func (m *memStore) Put(ctx context.Context, l Lead) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.puts++
	if m.onPut != nil {
		if err := m.onPut(l); err != nil {
			return err
		}
	}
	if _, ok := m.leads[l.ID]; ok {
		return fmt.Errorf("put lead %s: %w", l.ID, ErrLeadExists)
	}
	m.leads[l.ID] = l
	return nil
}

func (m *memStore) all() []Lead {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Lead, 0, len(m.leads))
	for _, l := range m.leads {
		out = append(out, l)
	}
	return out
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type verifierFunc func(ctx context.Context, token, remoteIP string) error

func (f verifierFunc) Verify(ctx context.Context, token, remoteIP string) error {
	return f(ctx, token, remoteIP)
}

const (
	retention     = 365 * 24 * time.Hour
	spamRetention = 7 * 24 * time.Hour
)

// submitNow has sub-millisecond digits, which the stored times drop.
var submitNow = time.Date(2025, time.June, 15, 14, 30, 0, 123456789, time.UTC)

func newService() (*Service, *memStore, *clock) {
	store := newMemStore()
	clk := &clock{t: submitNow}
	return &Service{
		Store:         store,
		Validator:     NewValidator(clk.Now),
		Retention:     retention,
		SpamRetention: spamRetention,
		Now:           clk.Now,
		NewID:         NewID,
	}, store, clk
}

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

var testReq = Request{ClientIP: "203.0.113.7", UserAgent: "Mozilla/5.0 (test)"}

func TestSubmitContact(t *testing.T) {
	svc, store, _ := newService()
	form := validContact()
	form.Email = " Ada.Lovelace@Example.COM "
	form.Message = "Hello\r\n<script>alert(1)</script>\r\n{{.}} \"><img src=x onerror=alert(1)>"
	form.PreferredContact, form.SMSConsent = "text", true
	form.SubmissionID = "client-key-1"
	form.TurnstileToken = "turnstile-token"
	rec, err := svc.Submit(context.Background(), form, testReq)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	leads := store.all()
	if len(leads) != 1 {
		t.Fatalf("%d leads stored, want 1", len(leads))
	}
	got := leads[0]
	if rec.ID != got.ID || !uuidV7.MatchString(got.ID) {
		t.Errorf("receipt id %q, stored id %q: want the same UUIDv7", rec.ID, got.ID)
	}
	if rec.InCrisis {
		t.Error("contact receipt says in crisis")
	}
	created := submitNow.Truncate(time.Millisecond)
	want := Lead{
		ID:        got.ID,
		Kind:      KindContact,
		Status:    StatusNew,
		CreatedAt: created,
		ExpiresAt: created.Add(retention),
		Contact: &Contact{
			Name:             "Ada Lovelace",
			Email:            "Ada.Lovelace@example.com",
			Phone:            "+14105550134",
			Message:          "Hello\n<script>alert(1)</script>\n{{.}} \"><img src=x onerror=alert(1)>",
			PreferredContact: "text",
			SMSConsent:       true,
			Attribution:      validContact().Attribution,
		},
		Consent: Consent{
			ConsentToContact: true,
			SMSConsent:       true,
			At:               created,
			ClientIP:         "203.0.113.7",
			UserAgent:        "Mozilla/5.0 (test)",
			LandingPage:      "https://clinic.example/ketamine?x=1",
		},
		Attribution: validContact().Attribution,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored lead:\n got %+v\n     %+v\nwant %+v\n     %+v", got, *got.Contact, want, *want.Contact)
	}
	if ms := got.ID[:8] + got.ID[9:13]; ms != fmt.Sprintf("%012x", created.UnixMilli()) {
		t.Errorf("id %s does not carry the creation time %d", got.ID, created.UnixMilli())
	}
}

func TestSubmitConsultation(t *testing.T) {
	for _, crisis := range []bool{false, true} {
		t.Run(fmt.Sprintf("inCrisis=%v", crisis), func(t *testing.T) {
			svc, store, _ := newService()
			form := validConsultation()
			form.InCrisis = crisis
			form.State = "md"
			form.TurnstileToken = "tok"
			form.Website = ""
			rec, err := svc.Submit(context.Background(), form, testReq)
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			if rec.InCrisis != crisis {
				t.Errorf("receipt InCrisis = %v, want %v", rec.InCrisis, crisis)
			}
			leads := store.all()
			if len(leads) != 1 {
				t.Fatalf("%d leads, want 1", len(leads))
			}
			l := leads[0]
			if l.Kind != KindConsultation || l.Status != StatusNew || l.Contact != nil || l.Consultation == nil {
				t.Fatalf("lead kind %s status %s contact %v consultation %v", l.Kind, l.Status, l.Contact, l.Consultation)
			}
			c := l.Consultation
			if c.State != "MD" || c.Phone != "+14105550134" || c.InCrisis != crisis || l.InCrisis() != crisis {
				t.Errorf("stored consultation not normalised: %+v", *c)
			}
			if c.Controls != (Controls{}) {
				t.Errorf("controls stored: %+v", c.Controls)
			}
			wantConsent := Consent{ConsentToContact: true, AcknowledgedPrivacy: true, At: submitNow.Truncate(time.Millisecond),
				ClientIP: testReq.ClientIP, UserAgent: testReq.UserAgent, LandingPage: "https://clinic.example/consult"}
			if l.Consent != wantConsent {
				t.Errorf("consent = %+v, want %+v", l.Consent, wantConsent)
			}
			if l.Attribution != validConsultation().Attribution {
				t.Errorf("attribution = %+v", l.Attribution)
			}
			if l.Email() != "ada@example.com" {
				t.Errorf("Email() = %q", l.Email())
			}
		})
	}
}

func TestSubmitControlsNeverStored(t *testing.T) {
	svc, store, _ := newService()
	form := validContact()
	form.Website = "http://spam.example"
	form.SubmissionID = "sub-1"
	form.TurnstileToken = "token-MRK"
	if _, err := svc.Submit(context.Background(), form, testReq); err != nil {
		t.Fatal(err)
	}
	l := store.all()[0]
	if l.Contact.Controls != (Controls{}) {
		t.Errorf("controls stored: %+v", l.Contact.Controls)
	}
	if s := fmt.Sprintf("%+v %+v", l, *l.Contact); strings.Contains(s, "spam.example") || strings.Contains(s, "sub-1") || strings.Contains(s, "token-MRK") {
		t.Errorf("a control value is in the stored lead: %s", s)
	}
}

func TestSubmitHoneypot(t *testing.T) {
	created := submitNow.Truncate(time.Millisecond)
	for _, tt := range []struct {
		name       string
		form       func(honeypot string) Form
		wantStatus Status
		wantExpiry time.Time
		wantFlag   bool // SuspectedSpam
	}{
		{"contact", func(h string) Form { f := validContact(); f.Website = h; return f },
			StatusSpam, created.Add(spamRetention), false},
		{"consultation", func(h string) Form { f := validConsultation(); f.Website = h; return f },
			StatusSpam, created.Add(spamRetention), false},
		// Autofill may fill the hidden field for a real person: one who
		// says they are in crisis is never dropped on the honeypot alone.
		{"consultation in crisis", func(h string) Form { f := validConsultation(); f.InCrisis = true; f.Website = h; return f },
			StatusNew, created.Add(retention), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			svc, store, _ := newService()
			recHuman, err := svc.Submit(context.Background(), tt.form(""), testReq)
			if err != nil {
				t.Fatal(err)
			}
			recBot, err := svc.Submit(context.Background(), tt.form("http://buy-now.example"), testReq)
			if err != nil {
				t.Fatalf("honeypot submission: %v, want the success answer", err)
			}
			if recBot.ID == recHuman.ID || !uuidV7.MatchString(recBot.ID) || recBot.InCrisis != recHuman.InCrisis {
				t.Errorf("bot receipt %+v does not look like a person's %+v", recBot, recHuman)
			}
			if !recBot.Spam || recHuman.Spam {
				t.Errorf("receipts say Spam %v (honeypot) and %v (person), want true and false", recBot.Spam, recHuman.Spam)
			}
			var caught *Lead
			for _, l := range store.all() {
				if l.ID == recBot.ID {
					caught = &l
				} else if l.SuspectedSpam || l.Status != StatusNew {
					t.Errorf("the person's lead is %s, suspectedSpam %v", l.Status, l.SuspectedSpam)
				}
			}
			if caught == nil {
				t.Fatal("honeypot submission not stored")
			}
			if caught.Status != tt.wantStatus || !caught.ExpiresAt.Equal(tt.wantExpiry) || caught.SuspectedSpam != tt.wantFlag {
				t.Errorf("stored status %s expires %s suspectedSpam %v, want %s, %s, %v",
					caught.Status, caught.ExpiresAt, caught.SuspectedSpam, tt.wantStatus, tt.wantExpiry, tt.wantFlag)
			}
			// The website's retry of the same submission stores nothing new
			// and is not counted again.
			again, err := svc.Submit(context.Background(), tt.form("http://buy-now.example"), testReq)
			if err != nil || again.ID != recBot.ID || again.Spam {
				t.Errorf("retry: %+v %v, want the same lead, not counted again", again, err)
			}
		})
	}
}

func TestSubmitIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	t.Run("same key, same body", func(t *testing.T) {
		svc, store, clk := newService()
		first, err := svc.Submit(ctx, validContact(), Request{IdempotencyKey: "k-1", ClientIP: "1.1.1.1"})
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(KeyWindow - time.Second)
		// The same answers, spelled differently before normalisation, from another address.
		again := validContact()
		again.Name = "  Ada Lovelace "
		again.Email = "ada@EXAMPLE.com"
		again.Phone = "410.555.0134"
		again.TurnstileToken = "a fresh token"
		second, err := svc.Submit(ctx, again, Request{IdempotencyKey: "k-1", ClientIP: "2.2.2.2"})
		if err != nil {
			t.Fatal(err)
		}
		if second != first {
			t.Errorf("second receipt %+v, want the first %+v", second, first)
		}
		if n := len(store.all()); n != 1 {
			t.Errorf("%d leads, want 1", n)
		}
		if l := store.all()[0]; l.Consent.ClientIP != "1.1.1.1" {
			t.Errorf("stored lead overwritten by the retry: IP %s", l.Consent.ClientIP)
		}
	})
	t.Run("same key, different body", func(t *testing.T) {
		svc, store, _ := newService()
		if _, err := svc.Submit(ctx, validContact(), Request{IdempotencyKey: "k-1"}); err != nil {
			t.Fatal(err)
		}
		other := validContact()
		other.Message = "Something else " + leakMarker
		_, err := svc.Submit(ctx, other, Request{IdempotencyKey: "k-1"})
		if code := ErrorCode(err); code != CodeIdempotencyReused {
			t.Fatalf("error %v, code %s, want %s", err, code, CodeIdempotencyReused)
		}
		assertNoLeak(t, err)
		if n := len(store.all()); n != 1 {
			t.Errorf("%d leads, want 1", n)
		}
	})
	t.Run("same key after the window", func(t *testing.T) {
		svc, store, clk := newService()
		first, _ := svc.Submit(ctx, validContact(), Request{IdempotencyKey: "k-1"})
		clk.Advance(KeyWindow + time.Second)
		second, err := svc.Submit(ctx, validContact(), Request{IdempotencyKey: "k-1"})
		if err != nil {
			t.Fatal(err)
		}
		if second.ID == first.ID || len(store.all()) != 2 {
			t.Errorf("ids %s, %s and %d leads: want a new lead once the key expired", first.ID, second.ID, len(store.all()))
		}
	})
	t.Run("same key, other form", func(t *testing.T) {
		svc, store, _ := newService()
		a, err1 := svc.Submit(ctx, validContact(), Request{IdempotencyKey: "k-1"})
		b, err2 := svc.Submit(ctx, validConsultation(), Request{IdempotencyKey: "k-1"})
		if err1 != nil || err2 != nil || a.ID == b.ID || len(store.all()) != 2 {
			t.Errorf("errors %v, %v; ids %s, %s; %d leads: want two leads", err1, err2, a.ID, b.ID, len(store.all()))
		}
	})
	t.Run("submissionId when there is no header", func(t *testing.T) {
		svc, store, clk := newService()
		f1 := validConsultation()
		f1.SubmissionID = "sub-1"
		first, err := svc.Submit(ctx, f1, testReq)
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour) // past the automatic window: only the key can match
		f2 := validConsultation()
		f2.SubmissionID = "sub-1"
		second, err := svc.Submit(ctx, f2, testReq)
		if err != nil || second.ID != first.ID || len(store.all()) != 1 {
			t.Errorf("err %v, ids %s, %s, %d leads: want the first lead back", err, first.ID, second.ID, len(store.all()))
		}
		f3 := validConsultation()
		f3.SubmissionID = "sub-1"
		f3.Concerns = []string{"ptsd"}
		if _, err := svc.Submit(ctx, f3, testReq); ErrorCode(err) != CodeIdempotencyReused {
			t.Errorf("changed body with the same submissionId: %v, want %s", err, CodeIdempotencyReused)
		}
	})
	t.Run("header wins over submissionId", func(t *testing.T) {
		svc, store, clk := newService()
		f1 := validContact()
		f1.SubmissionID = "sub-1"
		first, _ := svc.Submit(ctx, f1, Request{IdempotencyKey: "hdr"})
		clk.Advance(time.Hour)
		f2 := validContact()
		f2.SubmissionID = "sub-2"
		second, err := svc.Submit(ctx, f2, Request{IdempotencyKey: "hdr"})
		if err != nil || second.ID != first.ID || len(store.all()) != 1 {
			t.Errorf("err %v, ids %s, %s, %d leads: want the first lead back", err, first.ID, second.ID, len(store.all()))
		}
	})
	t.Run("invalid header", func(t *testing.T) {
		for _, key := range []string{"has space " + leakMarker, strings.Repeat("k", 129), "a\r\nb" + leakMarker, "ключ" + leakMarker} {
			svc, store, _ := newService()
			_, err := svc.Submit(ctx, validContact(), Request{IdempotencyKey: key})
			if got := fieldsOf(t, err); !equalStrings(got, []string{"Idempotency-Key"}) {
				t.Errorf("key %q: failing fields %v, want [Idempotency-Key]", key, got)
			}
			assertNoLeak(t, err)
			if len(store.all()) != 0 || len(store.claims) != 0 {
				t.Error("something was stored")
			}
		}
	})
	t.Run("invalid header and invalid form, reported together", func(t *testing.T) {
		svc, _, _ := newService()
		form := validContact()
		form.Email = "nope"
		_, err := svc.Submit(ctx, form, Request{IdempotencyKey: "bad key"})
		if got := fieldsOf(t, err); !equalStrings(got, []string{"Idempotency-Key", "email"}) {
			t.Errorf("failing fields %v, want [Idempotency-Key email]", got)
		}
	})
}

func TestSubmitAutomaticDedupe(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		after   time.Duration
		modify  func(*Contact)
		wantNew bool
	}{
		{"double click", 0, nil, false},
		{"within ten minutes", AutoWindow - time.Second, nil, false},
		{"after ten minutes", AutoWindow + time.Millisecond, nil, true},
		{"other email", time.Second, func(c *Contact) { c.Email = "grace@example.com" }, true},
		{"email domain case only", time.Second, func(c *Contact) { c.Email = "ada@EXAMPLE.com" }, false},
		{"other message", time.Second, func(c *Contact) { c.Message += "!" }, true},
		{"other turnstile token", time.Second, func(c *Contact) { c.TurnstileToken = "new" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, store, clk := newService()
			first, err := svc.Submit(ctx, validContact(), testReq)
			if err != nil {
				t.Fatal(err)
			}
			clk.Advance(tt.after)
			form := validContact()
			if tt.modify != nil {
				tt.modify(form)
			}
			second, err := svc.Submit(ctx, form, testReq)
			if err != nil {
				t.Fatal(err)
			}
			wantLeads := 1
			if tt.wantNew {
				wantLeads = 2
			}
			if gotNew := second.ID != first.ID; gotNew != tt.wantNew {
				t.Errorf("new id = %v, want %v", gotNew, tt.wantNew)
			}
			if n := len(store.all()); n != wantLeads {
				t.Errorf("%d leads, want %d", n, wantLeads)
			}
		})
	}
	t.Run("contact and consultation never collide", func(t *testing.T) {
		svc, store, _ := newService()
		svc.Submit(ctx, validContact(), testReq)
		svc.Submit(ctx, validConsultation(), testReq)
		if n := len(store.all()); n != 2 {
			t.Errorf("%d leads, want 2", n)
		}
	})
}

func TestSubmitConcurrent(t *testing.T) {
	tests := []struct {
		name  string
		key   string
		same  bool
		leads int
	}{
		{"same key", "k-concurrent", true, 1},
		{"no key, same body", "", true, 1},
		{"different bodies", "", false, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, store, _ := newService()
			var wg sync.WaitGroup
			start := make(chan struct{})
			ids := make([]string, 20)
			errs := make([]error, 20)
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					form := validConsultation()
					if !tt.same {
						form.Email = fmt.Sprintf("person%d@example.com", i)
					}
					<-start
					rec, err := svc.Submit(context.Background(), form, Request{IdempotencyKey: tt.key})
					ids[i], errs[i] = rec.ID, err
				}()
			}
			close(start)
			wg.Wait()
			distinct := map[string]bool{}
			for i := range ids {
				if errs[i] != nil {
					t.Fatalf("submission %d: %v", i, errs[i])
				}
				distinct[ids[i]] = true
			}
			if len(distinct) != tt.leads || len(store.all()) != tt.leads {
				t.Errorf("%d distinct ids and %d leads, want %d", len(distinct), len(store.all()), tt.leads)
			}
			for _, l := range store.all() {
				if !distinct[l.ID] {
					t.Errorf("stored id %s was never answered", l.ID)
				}
			}
		})
	}
}

func TestSubmitStoreFaults(t *testing.T) {
	ctx := context.Background()
	down := errors.New("dial tcp: connection refused")
	t.Run("claim unavailable", func(t *testing.T) {
		svc, store, _ := newService()
		store.onClaim = func(Claim) error { return Unavailable(down) }
		_, err := svc.Submit(ctx, validContact(), testReq)
		if ErrorCode(err) != CodeUnavailable || !errors.Is(err, down) {
			t.Errorf("error %v, want %s wrapping the cause", err, CodeUnavailable)
		}
		if store.puts != 0 {
			t.Errorf("Put called %d times after a failed claim", store.puts)
		}
	})
	t.Run("claim fails unexpectedly", func(t *testing.T) {
		svc, store, _ := newService()
		store.onClaim = func(Claim) error { return errors.New("boom") }
		_, err := svc.Submit(ctx, validContact(), testReq)
		if err == nil || ErrorCode(err) != CodeInternal {
			t.Errorf("error %v, want an internal error", err)
		}
	})
	t.Run("put unavailable", func(t *testing.T) {
		svc, store, _ := newService()
		store.onPut = func(Lead) error { return Unavailable(down) }
		_, err := svc.Submit(ctx, validContact(), testReq)
		if ErrorCode(err) != CodeUnavailable {
			t.Errorf("error %v, want %s", err, CodeUnavailable)
		}
	})
	t.Run("put says the lead exists", func(t *testing.T) {
		svc, store, _ := newService()
		store.onPut = func(l Lead) error { return fmt.Errorf("put lead %s: %w", l.ID, ErrLeadExists) }
		rec, err := svc.Submit(ctx, validContact(), testReq)
		if err != nil || rec.ID == "" {
			t.Errorf("receipt %+v, error %v: want success, the write had landed", rec, err)
		}
	})
	for _, key := range []string{"k-retry", ""} {
		t.Run("put fails after the claim, then a retry (key "+key+")", func(t *testing.T) {
			svc, store, clk := newService()
			var claimed string
			store.onClaim = func(c Claim) error {
				if claimed == "" {
					claimed = c.LeadID
				}
				return nil
			}
			store.onPut = func(Lead) error { return Unavailable(down) }
			if _, err := svc.Submit(ctx, validContact(), Request{IdempotencyKey: key}); ErrorCode(err) != CodeUnavailable {
				t.Fatalf("first try: %v, want %s", err, CodeUnavailable)
			}
			store.onPut = nil
			clk.Advance(5 * time.Second)
			rec, err := svc.Submit(ctx, validContact(), Request{IdempotencyKey: key})
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			leads := store.all()
			if len(leads) != 1 || leads[0].ID != claimed || rec.ID != claimed {
				t.Fatalf("%d leads, receipt %s, claimed %s: want exactly one lead with the claimed id", len(leads), rec.ID, claimed)
			}
			// The lead carries the time of the first attempt, as its id does.
			if want := submitNow.Truncate(time.Millisecond); !leads[0].CreatedAt.Equal(want) {
				t.Errorf("createdAt %s, want %s", leads[0].CreatedAt, want)
			}
			// A third try changes nothing.
			if again, err := svc.Submit(ctx, validContact(), Request{IdempotencyKey: key}); err != nil || again.ID != claimed || len(store.all()) != 1 {
				t.Errorf("third try: %+v, %v, %d leads", again, err, len(store.all()))
			}
		})
	}
}

func TestSubmitVerifier(t *testing.T) {
	ctx := context.Background()
	t.Run("failure: its error, nothing stored", func(t *testing.T) {
		svc, store, _ := newService()
		refused := Errorf(CodeVerificationFailed, "please complete the check and submit again")
		var gotToken, gotIP string
		svc.Verifier = verifierFunc(func(_ context.Context, token, ip string) error {
			gotToken, gotIP = token, ip
			return refused
		})
		form := validContact()
		form.TurnstileToken = " tok-1 "
		_, err := svc.Submit(ctx, form, testReq)
		if err != refused {
			t.Errorf("error %v, want the verifier's", err)
		}
		if gotToken != "tok-1" || gotIP != testReq.ClientIP {
			t.Errorf("verifier got token %q, IP %q", gotToken, gotIP)
		}
		if len(store.claims) != 0 || store.puts != 0 {
			t.Errorf("%d claims, %d puts after a failed check, want none", len(store.claims), store.puts)
		}
	})
	t.Run("not asked about invalid forms", func(t *testing.T) {
		svc, _, _ := newService()
		called := false
		svc.Verifier = verifierFunc(func(context.Context, string, string) error { called = true; return nil })
		form := validContact()
		form.Email = ""
		if _, err := svc.Submit(ctx, form, testReq); ErrorCode(err) != CodeInvalid {
			t.Errorf("error %v, want %s", err, CodeInvalid)
		}
		if called {
			t.Error("verifier called for an invalid form")
		}
	})
	t.Run("success", func(t *testing.T) {
		svc, store, _ := newService()
		svc.Verifier = verifierFunc(func(context.Context, string, string) error { return nil })
		if _, err := svc.Submit(ctx, validConsultation(), testReq); err != nil || len(store.all()) != 1 {
			t.Errorf("error %v, %d leads", err, len(store.all()))
		}
	})
}

func TestSubmitInvalidStoresNothing(t *testing.T) {
	svc, store, _ := newService()
	form := validConsultation()
	form.FirstName = "A\u202e" + leakMarker
	form.DateOfBirth = "2010-01-01"
	_, err := svc.Submit(context.Background(), form, testReq)
	if got := fieldsOf(t, err); !equalStrings(got, []string{"firstName", "dateOfBirth"}) {
		t.Errorf("failing fields %v", got)
	}
	assertNoLeak(t, err)
	if len(store.claims) != 0 || store.puts != 0 {
		t.Error("an invalid form reached the store")
	}
}
