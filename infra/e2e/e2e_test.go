//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/clinicleads/leadpipe/internal/dev/devstack"
	"github.com/clinicleads/leadpipe/internal/dev/localaws"
	"github.com/clinicleads/leadpipe/internal/dev/localaws/awstest"
	"github.com/clinicleads/leadpipe/internal/lead"
)

const (
	readyLine  = "leadpipe dev stack ready"
	leadsTable = "leads"

	startTimeout   = 120 * time.Second // the first `go run` compiles the stack
	browserTimeout = 3 * time.Minute
	stopGrace      = 15 * time.Second
	mailWait       = 10 * time.Second // the stream delivers asynchronously
)

// chromiumPath is the browser make e2e installed or was given (CHROMIUM).
func chromiumPath() string {
	if p := os.Getenv("LEADPIPE_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// The ports the dev stack reads, each set to a free loopback port.
var portVars = []string{"LEADPIPE_API_PORT", "LEADPIPE_DYNAMO_PORT", "LEADPIPE_SES_PORT", "LEADPIPE_STREAM_PORT", "LEADPIPE_COGNITO_PORT"}

// summary is what browser.mjs and staff.mjs print on stdout.
type summary struct {
	OK          bool              `json:"ok"`
	Error       string            `json:"error"`
	Emails      map[string]string `json:"emails"`
	Leads       map[string]string `json:"leads"` // scenario -> lead id the page was given
	Keys        map[string]string `json:"keys"`
	Screenshots []string          `json:"screenshots"`
	Steps       []struct {
		Name string `json:"name"`
		MS   int    `json:"ms"`
	} `json:"steps"`
	Staff struct {
		Audit []string `json:"audit"` // the audit trail's actions shown after the reload
	} `json:"staff"`
}

// staffInput is what staff.mjs is told: the seeded staff account, and what
// the person in crisis and then staff write, unique to the run so that a
// search of the page, its storage or an email cannot find another lead's.
type staffInput struct {
	User        string `json:"user"`
	Password    string `json:"password"`
	Email       string `json:"email"`
	FirstName   string `json:"firstName"`
	LastName    string `json:"lastName"`
	Medications string `json:"medications"`
	Note        string `json:"note"`
}

func TestBrowser(t *testing.T) {
	requireTools(t)
	root, err := localaws.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}

	ports := freePorts(t, len(portVars))
	stack := startStack(t, root, ports)
	api := fmt.Sprintf("http://127.0.0.1:%d", ports["LEADPIPE_API_PORT"])
	dynamoURL := fmt.Sprintf("http://127.0.0.1:%d", ports["LEADPIPE_DYNAMO_PORT"])
	sesURL := fmt.Sprintf("http://127.0.0.1:%d", ports["LEADPIPE_SES_PORT"])

	// Addresses unique to this run, so a reused stack or table cannot make
	// a count pass or fail by accident.
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	emails := map[string]string{}
	for _, s := range []string{"consultation", "corrected", "retry", "rekey", "crisis", "contact", "plain"} {
		emails[s] = fmt.Sprintf("e2e-%s-%s@example.com", s, run)
	}

	got := runScript(t, root, "browser.mjs", map[string]any{"emails": emails}, api)
	for _, s := range []string{"consultation", "corrected", "retry", "rekey", "crisis"} {
		if got.Leads[s] == "" {
			t.Fatalf("browser.mjs reported no lead id for %s", s)
		}
	}

	// The staff inbox, on the same stack (starting another would double
	// the run time): a person in crisis submits; staff sign in, open the
	// lead, mark it contacted with a note, reload, sign out.
	in := staffInput{
		User: devstack.StaffUser, Password: devstack.DefaultStaffPassword,
		Email: fmt.Sprintf("e2e-staff-%s@example.com", run), FirstName: "Rowan", LastName: "Inboxtest",
		Medications: "Lamotrigine 25 mg twice daily (e2e " + run + ")",
		Note:        "Called back (e2e " + run + "): booked a screening call for Tuesday.",
	}
	if p := os.Getenv("LEADPIPE_DEV_STAFF_PASSWORD"); p != "" {
		in.Password = p // the stack seeds the account with it
	}
	staffRun := runScript(t, root, "staff.mjs", map[string]any{"staff": in}, api)
	staffID := staffRun.Leads["staff"]
	if staffID == "" {
		t.Fatalf("staff.mjs reported no lead id")
	}
	got.Leads["staff"] = staffID
	emails["staff"] = in.Email

	// Every submitted lead is stored exactly once: the retried submission
	// too, and the invalid attempt before the corrected one left nothing.
	db := awstest.DynamoClient(t, dynamoURL)
	byEmail := scanLeads(t, db)
	for scenario, email := range emails {
		items := byEmail[email]
		if len(items) != 1 {
			t.Errorf("%s: %d leads stored for %s, want exactly 1", scenario, len(items), email)
			continue
		}
		if id, ok := got.Leads[scenario]; ok && str(items[0], "id") != id {
			t.Errorf("%s: stored lead %s, the page was told %s", scenario, str(items[0], "id"), id)
		}
	}
	checkItem(t, byEmail[emails["consultation"]], map[string]string{
		"kind": "consultation", "status": "new", "state": "MD", "phone": "+14105550134",
		"utmSource": "e2e-test", "utmCampaign": "leadpipe", "landingPage": api + "/",
	})
	checkItem(t, byEmail[emails["contact"]], map[string]string{"kind": "contact", "status": "new", "preferredContact": "email"})
	if items := byEmail[emails["crisis"]]; len(items) == 1 && !boolean(items[0], "inCrisis") {
		t.Errorf("crisis lead stored with inCrisis false")
	}
	checkStaffLead(t, db, byEmail[in.Email], in)

	// The stream hands each new lead to notify, which emails staff.
	wantMail := map[string]string{ // lead id -> subject it must have
		got.Leads["consultation"]: "New consultation request " + lead.ShortID(got.Leads["consultation"]),
		got.Leads["retry"]:        "New consultation request " + lead.ShortID(got.Leads["retry"]),
		got.Leads["crisis"]:       "URGENT (in crisis): New consultation request " + lead.ShortID(got.Leads["crisis"]),
		staffID:                   "URGENT (in crisis): New consultation request " + lead.ShortID(staffID),
	}
	mail := waitForMail(t, sesURL, wantMail)
	for id, subject := range wantMail {
		if n := len(withSubject(mail, subject)); n != 1 {
			t.Errorf("lead %s: %d staff emails with subject %q, want 1", id, n, subject)
		}
	}
	// The staff email points into the inbox, and (NOTIFY_DETAIL=contact)
	// carries no health answer.
	link := api + "/staff#/leads/" + staffID
	for _, m := range withSubject(mail, wantMail[staffID]) {
		for part, body := range map[string]string{"text": m.Body.Text, "html": m.Body.HTML} {
			if !strings.Contains(body, link) {
				t.Errorf("staff email for %s: the %s part has no link %s:\n%s", staffID, part, link, body)
			}
			if strings.Contains(body, in.Medications) {
				t.Errorf("staff email for %s: the %s part holds the medications answer (NOTIFY_DETAIL=contact)", staffID, part)
			}
		}
	}

	stack.stop(t)
}

// requireTools skips the test when Chromium, Node.js or playwright-core is
// missing, or fails it under LEADPIPE_REQUIRE_EMULATORS=1 (make e2e, CI).
func requireTools(t *testing.T) {
	t.Helper()
	var missing []string
	if _, err := os.Stat(chromiumPath()); err != nil {
		missing = append(missing, chromiumPath()+" (apt-get install --no-install-recommends chromium; make e2e does it, or set CHROMIUM)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node on PATH")
	}
	if root, err := localaws.ModuleRoot(); err == nil {
		if _, err := os.Stat(filepath.Join(root, "infra", "node_modules", "playwright-core", "package.json")); err != nil {
			missing = append(missing, "infra/node_modules/playwright-core (npm ci --prefix infra)")
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "browser test needs " + strings.Join(missing, ", ")
	if os.Getenv(awstest.RequireEnv) == "1" {
		t.Fatalf("%s (%s=1: required)", msg, awstest.RequireEnv)
	}
	t.Skip("skipped: " + msg)
}

// freePorts picks n distinct free loopback ports by listening on port 0.
// All listeners stay open until every port is picked, so none repeats.
func freePorts(t *testing.T, n int) map[string]int {
	t.Helper()
	ports := map[string]int{}
	var ls []net.Listener
	for _, name := range portVars[:n] {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("pick a free port: %v", err)
		}
		ls = append(ls, l)
		ports[name] = l.Addr().(*net.TCPAddr).Port
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// stack is the dev stack running as `go run ./infra/devstack` in its own
// process group.
type stack struct {
	cmd   *exec.Cmd
	ports map[string]int
	out   *tail
	done  chan struct{} // closed when cmd.Wait returns
	once  sync.Once
}

func startStack(t *testing.T, root string, ports map[string]int) *stack {
	t.Helper()
	cmd := exec.Command("go", "run", "./infra/devstack")
	cmd.Dir = root
	cmd.Env = os.Environ()
	if os.Getenv("GOTOOLCHAIN") == "" {
		cmd.Env = append(cmd.Env, "GOTOOLCHAIN=go1.26.10")
	}
	for name, port := range ports {
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", name, port))
	}
	// The staff email's level of detail is the dev default, whatever the
	// shell says: the test checks that it carries no health answer.
	cmd.Env = append(cmd.Env, "NOTIFY_DETAIL=contact")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	s := &stack{cmd: cmd, ports: ports, out: &tail{max: 200}, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dev stack: %v", err)
	}
	t.Logf("dev stack: pid %d, ports %v", cmd.Process.Pid, ports)

	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		seen := false
		for sc.Scan() {
			line := sc.Text()
			s.out.add(line)
			if !seen && strings.Contains(line, readyLine) {
				seen = true
				close(ready)
			}
		}
		io.Copy(io.Discard, pr) // a line over 1 MiB: keep draining
	}()
	go func() {
		cmd.Wait()
		pw.Close()
		close(s.done)
	}()
	// Registered before waiting, so a stack that never gets ready is still
	// stopped; stop is idempotent, the test body calls it to assert on it.
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("dev stack output (last %d lines):\n%s", s.out.max, s.out.String())
		}
	})

	start := time.Now()
	select {
	case <-ready:
		t.Logf("dev stack ready in %s", time.Since(start).Round(100*time.Millisecond))
	case <-s.done:
		t.Fatalf("dev stack exited before it was ready (%v); output:\n%s", cmd.ProcessState, s.out.String())
	case <-time.After(startTimeout):
		t.Fatalf("dev stack not ready after %s; output:\n%s", startTimeout, s.out.String())
	}
	return s
}

// stop sends SIGTERM to the stack's process group, then SIGKILL after a
// grace period, and checks that nothing is left listening on its ports.
func (s *stack) stop(t *testing.T) {
	t.Helper()
	s.once.Do(func() {
		pgid := s.cmd.Process.Pid
		start := time.Now()
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(stopGrace):
			t.Errorf("dev stack still running %s after SIGTERM; sending SIGKILL", stopGrace)
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-s.done
		}
		// `go run` may exit before the stack it started has finished
		// stopping: wait for the whole group, then insist.
		deadline := time.Now().Add(stopGrace)
		for groupAlive(pgid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if groupAlive(pgid) {
			t.Errorf("dev stack processes still running %s after SIGTERM; sending SIGKILL", stopGrace)
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
		t.Logf("dev stack stopped in %s", time.Since(start).Round(10*time.Millisecond))

		// The stack stops its emulators before it exits; give a closing
		// socket a moment, then insist.
		deadline = time.Now().Add(5 * time.Second)
		for _, name := range portVars {
			port := s.ports[name]
			for listening(port) && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			if listening(port) {
				t.Errorf("%s=%d: something still listens after the dev stack stopped", name, port)
			}
		}
	})
}

// groupAlive reports whether any process of group pgid is still running.
// Zombies do not count: they hold no ports and are their parent's to reap.
func groupAlive(pgid int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return syscall.Kill(-pgid, 0) == nil // no /proc: ask the kernel
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may contain spaces and ")".
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid && pid > 0 {
			return true
		}
	}
	return false
}

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 500*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// runScript runs infra/e2e/<script> against the stack at api with input
// (plus baseURL, artifacts and chromium), logs its steps and screenshots,
// and returns its summary; it fails the test unless the script succeeded.
func runScript(t *testing.T, root, script string, input map[string]any, api string) summary {
	t.Helper()
	input["baseURL"] = api
	input["artifacts"] = filepath.Join(root, "infra", "e2e", "artifacts")
	input["chromium"] = chromiumPath()
	b, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("infra", "e2e", script))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "LEADPIPE_E2E="+string(b))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// On timeout, take Chromium down with node.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()
	t.Logf("%s ran in %s", script, time.Since(start).Round(100*time.Millisecond))

	var got summary
	line := lastLine(stdout.String())
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("%s: %v; no JSON summary (%v)\nstdout:\n%s\nstderr:\n%s", script, runErr, err, stdout.String(), stderr.String())
	}
	for _, s := range got.Steps {
		t.Logf("%s step %-24s %6d ms", script, s.Name, s.MS)
	}
	for _, s := range got.Screenshots {
		t.Logf("screenshot %s", s)
	}
	if runErr != nil || !got.OK {
		t.Fatalf("%s failed (%v): %s\nstderr:\n%s", script, runErr, got.Error, stderr.String())
	}
	return got
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// scanLeads returns the table's leads (items of type "lead"), by email.
func scanLeads(t *testing.T, db *dynamodb.Client) map[string][]map[string]types.AttributeValue {
	t.Helper()
	out := map[string][]map[string]types.AttributeValue{}
	for _, item := range scanType(t, db, "lead") {
		out[str(item, "email")] = append(out[str(item, "email")], item)
	}
	return out
}

// scanType returns the table's items of one type ("lead", "audit"). A
// scan is fine against a local table of a few items; the functions
// themselves are not allowed to scan.
func scanType(t *testing.T, db *dynamodb.Client, typ string) []map[string]types.AttributeValue {
	t.Helper()
	var out []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{
		TableName:      aws.String(leadsTable),
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scan %s: %v", leadsTable, err)
		}
		for _, item := range page.Items {
			if str(item, "type") == typ {
				out = append(out, item)
			}
		}
	}
	return out
}

// checkStaffLead holds the table to what staff did in staff.mjs: the lead
// in crisis is contacted, one change after intake's version 1, with the
// note; its audit trail in the table has exactly the four entries the page
// showed (two views, the status change, the note), all by the staff user.
func checkStaffLead(t *testing.T, db *dynamodb.Client, items []map[string]types.AttributeValue, in staffInput) {
	t.Helper()
	if len(items) != 1 {
		return // already reported
	}
	item := items[0]
	id := str(item, "id")
	checkItem(t, items, map[string]string{"kind": "consultation", "status": "contacted", "currentMedications": in.Medications})
	if !boolean(item, "inCrisis") {
		t.Errorf("staff lead %s stored with inCrisis false", id)
	}
	if v, ok := item["version"].(*types.AttributeValueMemberN); !ok || v.Value != "2" {
		t.Errorf("staff lead %s: version %v, want 2 (intake's 1, then one change)", id, item["version"])
	}
	var notes []string
	if l, ok := item["notes"].(*types.AttributeValueMemberL); ok {
		for _, n := range l.Value {
			if m, ok := n.(*types.AttributeValueMemberM); ok {
				notes = append(notes, str(m.Value, "text"))
			}
		}
	}
	if len(notes) != 1 || notes[0] != in.Note {
		t.Errorf("staff lead %s: notes %q, want [%q]", id, notes, in.Note)
	}

	var actions []string
	for _, e := range scanType(t, db, "audit") {
		if str(e, "leadId") != id {
			continue
		}
		actions = append(actions, str(e, "action"))
		if by := str(e, "actorEmail"); by != in.User {
			t.Errorf("audit entry %s of %s by %q, want %q", str(e, "action"), id, by, in.User)
		}
	}
	slices.Sort(actions)
	if want := []string{"note_added", "status_changed", "viewed", "viewed"}; !slices.Equal(actions, want) {
		t.Errorf("audit entries of %s in the table: %v, want %v", id, actions, want)
	}
}

func checkItem(t *testing.T, items []map[string]types.AttributeValue, want map[string]string) {
	t.Helper()
	if len(items) != 1 {
		return // already reported
	}
	for attr, v := range want {
		if got := str(items[0], attr); got != v {
			t.Errorf("lead %s: %s = %q, want %q", str(items[0], "id"), attr, got, v)
		}
	}
}

func str(item map[string]types.AttributeValue, attr string) string {
	if v, ok := item[attr].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func boolean(item map[string]types.AttributeValue, attr string) bool {
	v, ok := item[attr].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

// waitForMail polls the SES emulator until a mail with every wanted subject
// has arrived, or mailWait passes, and returns the mail captured by then.
func waitForMail(t *testing.T, sesURL string, want map[string]string) []awstest.SentEmail {
	t.Helper()
	deadline := time.Now().Add(mailWait)
	for {
		mail := awstest.SESStore(t, sesURL)
		count := map[string]int{}
		for _, m := range mail {
			count[m.Subject]++
		}
		all := true
		for _, subject := range want {
			if count[subject] == 0 {
				all = false
			}
		}
		if all || time.Now().After(deadline) {
			if !all {
				t.Logf("SES store after %s: %v", mailWait, count)
			}
			return mail
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// withSubject returns the mails with the given subject.
func withSubject(mail []awstest.SentEmail, subject string) []awstest.SentEmail {
	var out []awstest.SentEmail
	for _, m := range mail {
		if m.Subject == subject {
			out = append(out, m)
		}
	}
	return out
}

// tail keeps the last max lines of the stack's output.
type tail struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (b *tail) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
	if len(b.lines) > b.max {
		b.lines = b.lines[len(b.lines)-b.max:]
	}
}

func (b *tail) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}
