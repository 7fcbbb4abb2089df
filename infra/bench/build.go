package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/clinicleads/leadpipe/internal/dev/benchdata"
)

// builder builds packages of the module as the Makefile builds functions.
type builder struct {
	root  string
	build benchdata.Build
	env   []string // the environment for the go command
}

func newBuilder(root string) (*builder, error) {
	b, err := benchdata.LambdaBuild(root)
	if err != nil {
		return nil, err
	}
	env := os.Environ()
	// Build with the toolchain go.mod names, as `make` does, also when the
	// bench was started without the Makefile.
	if os.Getenv("GOTOOLCHAIN") == "" || os.Getenv("GOTOOLCHAIN") == "local" {
		if tc := goModToolchain(root); tc != "" {
			env = append(env, "GOTOOLCHAIN="+tc)
		}
	}
	return &builder{root: root, build: b, env: env}, nil
}

// goModToolchain returns go.mod's toolchain line (go1.26.10), or "".
func goModToolchain(root string) string {
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "toolchain "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// buildSpec is one build: a package, an architecture and changes to the
// Makefile's flags for lever measurements.
type buildSpec struct {
	pkg     string   // ./functions/consultation
	goarch  string   // arm64 or amd64
	flags   []string // nil: the Makefile's flags
	extra   []string // added after the flags (-overlay, -modfile)
	out     string   // the bootstrap path
	envMore []string
}

func (b *builder) run(s buildSpec) error {
	flags := s.flags
	if flags == nil {
		flags = b.build.Flags
	}
	args := append([]string{"build"}, flags...)
	args = append(args, s.extra...)
	args = append(args, "-o", s.out, s.pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = b.root
	cmd.Env = append(append(append([]string{}, b.env...), b.build.Env...), "GOARCH="+s.goarch)
	cmd.Env = append(cmd.Env, s.envMore...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// goVersion is the go command's version as the builds see it.
func (b *builder) goVersion() string {
	cmd := exec.Command("go", "version")
	cmd.Dir = b.root
	cmd.Env = b.env
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// zipSize packages bin as sam build does for provided.al2023: a zip archive
// holding one deflated, executable file named bootstrap.
func zipSize(bin string) (int64, error) {
	f, err := os.Open(bin)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(w, f); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return int64(buf.Len()), nil
}

func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
