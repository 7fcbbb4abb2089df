package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// This file makes the variants the levers compare with production. Source
// variants are -overlay files: the repository is never modified, and an
// overlay whose anchor text is gone fails with a note instead of measuring
// something else.

// dumpDep links pkg with -dumpdep and reads what defeats dead-code
// elimination.
func dumpDep(b *builder, pkg, ldflags, out string) (DCE, error) {
	flags := []string{}
	for _, f := range b.build.Flags {
		if !strings.HasPrefix(f, "-ldflags=") {
			flags = append(flags, f)
		}
	}
	flags = append(flags, "-ldflags="+strings.TrimSpace(ldflags+" -dumpdep"))
	args := append(append([]string{"build"}, flags...), "-o", out, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = b.root
	cmd.Env = append(append(append([]string{}, b.env...), b.build.Env...), "GOARCH=arm64")
	dump, err := cmd.CombinedOutput()
	if err != nil {
		return DCE{}, fmt.Errorf("go %s: %v", strings.Join(args, " "), err)
	}
	return parseDumpDep(dump), nil
}

var clientItab = regexp.MustCompile(`go:itab\.\*github\.com/aws/aws-sdk-go-v2/service/([a-z0-9]+)\.Client,`)

func parseDumpDep(dump []byte) DCE {
	var d DCE
	callers := map[string]bool{}
	clients := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(dump))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, side := range strings.Split(line, " -> ") {
			name, ok := strings.CutSuffix(side, " <ReflectMethod>")
			if !ok {
				name, ok = strings.CutSuffix(side, " <UsedInIface><ReflectMethod>")
			}
			// reflect's own Method iterators are only reached once another
			// caller has made every exported method reachable.
			if ok && !strings.HasPrefix(name, "reflect.") && !strings.HasPrefix(name, "gclocals") {
				callers[name] = true
			}
		}
		if m := clientItab.FindStringSubmatch(line); m != nil {
			clients[m[1]] = true
		}
	}
	for k := range callers {
		d.ReflectMethodCallers = append(d.ReflectMethodCallers, k)
	}
	for k := range clients {
		d.ClientsInInterfaces = append(d.ClientsInInterfaces, k+".Client")
	}
	sort.Strings(d.ReflectMethodCallers)
	sort.Strings(d.ClientsInInterfaces)
	return d
}

// tempModfile copies go.mod and go.sum into dir/name and runs go get for
// modules on the copy, leaving the module's own files untouched.
func tempModfile(b *builder, dir, name string, modules ...string) (string, error) {
	mf := filepath.Join(dir, name, "go.mod")
	if err := os.MkdirAll(filepath.Dir(mf), 0o755); err != nil {
		return "", err
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(b.root, f))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(filepath.Dir(mf), f), data, 0o644); err != nil {
			return "", err
		}
	}
	args := append([]string{"get", "-modfile", mf}, modules...)
	cmd := exec.Command("go", args...)
	cmd.Dir = b.root
	cmd.Env = b.env
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return mf, nil
}

// edit is a build-time replacement of one of the module's files.
type edit struct {
	rel     string // the file, relative to the module root
	content string
}

// writeOverlay writes the replacements and the -overlay file naming them.
func writeOverlay(root, dir, name string, edits ...edit) (string, error) {
	repl := map[string]string{}
	for i, e := range edits {
		path := filepath.Join(dir, fmt.Sprintf("%s-%d.go", name, i))
		if err := os.WriteFile(path, []byte(e.content), 0o644); err != nil {
			return "", err
		}
		repl[filepath.Join(root, e.rel)] = path
	}
	js, err := json.Marshal(map[string]map[string]string{"Replace": repl})
	if err != nil {
		return "", err
	}
	ov := filepath.Join(dir, name+".overlay.json")
	return ov, os.WriteFile(ov, js, 0o644)
}

// rewrite reads rel and applies replacements, each of which must apply.
func rewrite(root, rel string, pairs ...string) (edit, error) {
	src, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return edit{}, err
	}
	s := string(src)
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			return edit{}, fmt.Errorf("%s no longer has %q", rel, pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return edit{rel: rel, content: s}, nil
}

// editNotifyClientsInInterfaces stores the notifier's SDK clients in its
// interfaces again (undoing dynamo.ClientAPI and sesmail.SendEmailFunc).
func editNotifyClientsInInterfaces(root string) (edit, error) {
	rel := filepath.Join("internal", "notify", "new.go")
	e, err := rewrite(root, rel, "dynamo.ClientAPI(db)", "db")
	if err != nil {
		return e, err
	}
	re := regexp.MustCompile(`sesmail\.SendEmailFunc\((.+)\.SendEmail\)`)
	if !re.MatchString(e.content) {
		return edit{}, fmt.Errorf("%s no longer wraps the SES client in sesmail.SendEmailFunc", rel)
	}
	e.content = re.ReplaceAllString(e.content, "$1")
	return e, nil
}

// editNoTZData drops the embedded time zone database from the notifier.
func editNoTZData(root string) (edit, error) {
	rel := filepath.Join("functions", "notify", "main.go")
	src, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return edit{}, err
	}
	re := regexp.MustCompile(`(?m)^\s*_ "time/tzdata".*\n`)
	if !re.Match(src) {
		return edit{}, fmt.Errorf("%s does not import time/tzdata", rel)
	}
	return edit{rel: rel, content: re.ReplaceAllString(string(src), "")}, nil
}

// editNoEmailTemplates replaces sesmail's templates with a stand-in
// renderer: a size probe only (the emails it makes are not the real ones),
// for what html/template and text/template cost the notifier.
func editNoEmailTemplates(root string) (edit, error) {
	rel := filepath.Join("internal", "sesmail", "build.go")
	src, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return edit{}, err
	}
	s := string(src)
	i := strings.Index(s, "//go:embed templates")
	v := strings.Index(s, "htmlTemplates =")
	blockEnd := -1
	if v > i && i >= 0 {
		if k := strings.Index(s[v:], "\n)\n"); k >= 0 {
			blockEnd = v + k + len("\n)\n")
		}
	}
	const sig = "func render(name string, v any) (text, html string, err error) {"
	j := strings.Index(s, sig)
	if i < 0 || blockEnd < 0 || j < blockEnd {
		return edit{}, fmt.Errorf("%s: the template variables or render function moved", rel)
	}
	k := strings.Index(s[j:], "\n}\n")
	if k < 0 {
		return edit{}, fmt.Errorf("%s: render has no end", rel)
	}
	s = s[:i] + s[blockEnd:j] + sig + "\n\treturn fmt.Sprint(name, v), benchhtml.EscapeString(fmt.Sprint(v)), nil\n}\n" + s[j+k+len("\n}\n"):]
	s = strings.Replace(s, "\thtmltemplate \"html/template\"\n", "\tbenchhtml \"html\"\n", 1)
	s = strings.Replace(s, "\ttexttemplate \"text/template\"\n", "", 1)
	s = strings.Replace(s, "\t\"embed\"\n", "", 1)
	if !strings.Contains(s[strings.Index(s, ")\n"):], "bytes.") {
		s = strings.Replace(s, "\t\"bytes\"\n", "", 1)
	}
	return edit{rel: rel, content: s}, nil
}

// editNoValidator replaces lead's validator with a hand-written stand-in
// that checks a few fields: a size probe only, for what linking
// go-playground/validator costs a function.
func editNoValidator(root string) (edit, error) {
	rel := filepath.Join("internal", "lead", "validate.go")
	src, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return edit{}, err
	}
	lines := strings.Split(string(src), "\n")
	start, end := -1, -1
	for i, l := range lines {
		if strings.HasPrefix(l, "type Validator struct") && start < 0 {
			start = i
		}
		if strings.HasPrefix(l, "const maxCombiningRun") {
			end = i
		}
	}
	if start < 0 || end < start {
		return edit{}, fmt.Errorf("%s: the Validator type or the text rules moved", rel)
	}
	for end > start && (strings.HasPrefix(lines[end-1], "//") || lines[end-1] == "") {
		end-- // keep the doc comment of what follows
	}
	stub := `type Validator struct{ now func() time.Time }

func NewValidator(now func() time.Time) *Validator {
	if now == nil {
		now = time.Now
	}
	return &Validator{now: now}
}

func (val *Validator) Validate(form any) error {
	ok := true
	switch f := form.(type) {
	case *Contact:
		ok = IsSingleLine(f.Name) && IsEmail(f.Email) && isCleanText(f.Message)
	case *Consultation:
		ok = IsEmail(f.Email) && isE164US(f.Phone) && isUSState(f.State) && val.isAdultBirthDate(f.DateOfBirth)
	}
	if !ok {
		return &Error{Code: CodeInvalid, Message: "some answers need another look"}
	}
	return nil
}
`
	s := strings.Join(lines[:start], "\n") + "\n" + stub + "\n" + strings.Join(lines[end:], "\n")
	s = strings.Replace(s, "\t\"github.com/go-playground/validator/v10\"\n", "", 1)
	body := s[strings.Index(s, ")\n"):]
	for _, imp := range []string{"errors", "fmt", "reflect", "sort", "strings", "unicode", "unicode/utf8"} {
		if !strings.Contains(body, filepath.Base(imp)+".") {
			s = strings.Replace(s, "\t\""+imp+"\"\n", "", 1)
		}
	}
	return edit{rel: rel, content: s}, nil
}

// editBodyWrapper makes awsconf.HTTPClient wrap its transport so that a
// request body the SDK closes early reads as finished instead of failing.
//
// smithy-go closes the request body as soon as the response arrives; if
// net/http's write loop has not yet made its final read of the body (the
// check for bytes beyond Content-Length), that read goes through the
// body's WriteTo, which returns io.EOF as an error once closed, and the
// transport then closes a healthy connection. Hiding WriteTo makes the
// same read a plain Read, whose io.EOF is the normal end.
func editBodyWrapper(root string) (edit, error) {
	rel := filepath.Join("internal", "awsconf", "awsconf.go")
	e, err := rewrite(root, rel,
		"func HTTPClient() *http.Client {", "func benchHTTPClient() *http.Client {",
		"\t\"net/http\"\n", "\t\"io\"\n\t\"net/http\"\n")
	if err != nil {
		return e, err
	}
	e.content += `
func HTTPClient() *http.Client {
	c := benchHTTPClient()
	c.Transport = benchBodyReader{c.Transport}
	return c
}

type benchBodyReader struct{ rt http.RoundTripper }

type benchReadCloser struct{ io.ReadCloser }

func (t benchBodyReader) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r2 := *r
		r2.Body = benchReadCloser{r.Body}
		r = &r2
	}
	return t.rt.RoundTrip(r)
}
`
	return e, nil
}

// gitArchive writes the module as it was at rev into dir (git archive: the
// repository is only read).
func gitArchive(root, rev, dir string) error {
	cmd := exec.Command("git", "archive", "--format=tar", rev)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	tr := tar.NewReader(out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			cmd.Wait()
			return fmt.Errorf("git archive %s: %v %s", rev, err, stderr.String())
		}
		name := filepath.Clean(h.Name)
		if filepath.IsAbs(name) || strings.HasPrefix(name, "..") {
			continue
		}
		path := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(path, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o755|0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			f.Close()
			if err != nil {
				return err
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git archive %s: %v %s", rev, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// writeLastCert writes the last certificate of bundle (the stub's own) to
// out: a bundle with only the root the endpoint needs.
func writeLastCert(bundle, out string) error {
	b, err := os.ReadFile(bundle)
	if err != nil {
		return err
	}
	i := bytes.LastIndex(b, []byte("-----BEGIN CERTIFICATE-----"))
	if i < 0 {
		return errors.New("no certificate in the bundle")
	}
	return os.WriteFile(out, b[i:], 0o644)
}

func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}
