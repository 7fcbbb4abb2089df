package benchdata

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxBinaryBytes is the size budget for each function's stripped
// linux/arm64 bootstrap. On Lambda every MB of binary costs roughly 5 ms
// of cold start; the figures and what they depend on are in the README's
// Performance section (`make bench` measures them).
const maxBinaryBytes = 10 << 20

// notifyBudget is notify's own, higher budget. Its emails must be rendered
// with html/template (contextual escaping of what the public typed), and
// text/template's reflection (reflect.Value.MethodByName with a run-time
// name) makes the linker keep every exported method of every type that
// sits in an interface: +2.0 MiB, measured. Without it notify would be
// about 9.1 MiB. This is a deliberate trade of ~6 ms of cold start for
// escaping we do not write by hand; the budget still catches any other
// growth.
const notifyBudget = 23 << 19 // 11.5 MiB

// SizeBudget is the most bytes the function's (its directory under
// functions/) stripped linux/arm64 bootstrap may have: the size test holds
// every function to it, and the bench command shows it.
func SizeBudget(function string) int64 {
	if function == "notify" {
		return notifyBudget
	}
	return maxBinaryBytes
}

// Build is how the Makefile builds a function's bootstrap (its LAMBDA_BUILD
// variable), so the size budget and the bench command measure exactly what
// sam build ships.
type Build struct {
	Env   []string // KEY=VALUE before the go command, GOARCH left out
	Flags []string // the go build flags, -o and the package left out
}

// LambdaBuild reads LAMBDA_BUILD from the Makefile at the module root.
func LambdaBuild(root string) (Build, error) {
	f, err := os.Open(filepath.Join(root, "Makefile"))
	if err != nil {
		return Build{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), "=")
		name = strings.TrimSuffix(strings.TrimSpace(name), ":")
		if !ok || strings.TrimSpace(name) != "LAMBDA_BUILD" {
			continue
		}
		return ParseBuild(value)
	}
	if err := sc.Err(); err != nil {
		return Build{}, err
	}
	return Build{}, fmt.Errorf("Makefile: no LAMBDA_BUILD variable")
}

// ParseBuild splits a LAMBDA_BUILD value such as
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_GOARCH) $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w -buildid='
//
// into its environment and its build flags.
func ParseBuild(value string) (Build, error) {
	words, err := shellWords(value)
	if err != nil {
		return Build{}, fmt.Errorf("LAMBDA_BUILD: %w", err)
	}
	var b Build
	i := 0
	for ; i < len(words) && strings.Contains(words[i], "=") && !strings.HasPrefix(words[i], "-"); i++ {
		if !strings.HasPrefix(words[i], "GOARCH=") {
			b.Env = append(b.Env, words[i])
		}
	}
	if i+1 >= len(words) || (words[i] != "$(GO)" && words[i] != "go") || words[i+1] != "build" {
		return Build{}, fmt.Errorf("LAMBDA_BUILD: want [VAR=value...] $(GO) build [flags], have %q", value)
	}
	b.Flags = words[i+2:]
	return b, nil
}

// shellWords splits s at blanks, honouring single and double quotes (no
// escapes: the Makefile needs none).
func shellWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
		quote rune
	)
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}
