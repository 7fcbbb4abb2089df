// Package stack finds a deployed leadpipe stack's resources: its outputs
// and parameters (DescribeStacks) and the physical ids of its resources
// (ListStackResources), and the default stack name and region from
// samconfig.toml.
package stack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/smithy-go"
)

// API is the part of the CloudFormation client the lookup uses.
type API interface {
	DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
	ListStackResources(context.Context, *cloudformation.ListStackResourcesInput, ...func(*cloudformation.Options)) (*cloudformation.ListStackResourcesOutput, error)
}

// Info is a deployed stack as leadctl sees it.
type Info struct {
	Name       string
	Status     string
	Outputs    map[string]string // by OutputKey
	Parameters map[string]string // by ParameterKey (NoEcho ones read "****")
	Resources  map[string]string // physical id by logical id
}

// ErrNotFound: no stack of that name in the region.
var ErrNotFound = errors.New("stack not found")

// Describe reads stack name's outputs, parameters and resources.
func Describe(ctx context.Context, api API, name string) (Info, error) {
	out, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && strings.Contains(ae.ErrorMessage(), "does not exist") {
		return Info{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err != nil {
		return Info{}, fmt.Errorf("describe stack %s: %w", name, err)
	}
	if len(out.Stacks) == 0 {
		return Info{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	s := out.Stacks[0]
	info := Info{Name: aws.ToString(s.StackName), Status: string(s.StackStatus),
		Outputs: map[string]string{}, Parameters: map[string]string{}, Resources: map[string]string{}}
	for _, o := range s.Outputs {
		info.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	for _, p := range s.Parameters {
		v := aws.ToString(p.ParameterValue)
		if p.ResolvedValue != nil {
			v = aws.ToString(p.ResolvedValue)
		}
		info.Parameters[aws.ToString(p.ParameterKey)] = v
	}
	in := &cloudformation.ListStackResourcesInput{StackName: aws.String(name)}
	for {
		page, err := api.ListStackResources(ctx, in)
		if err != nil {
			return Info{}, fmt.Errorf("list resources of stack %s: %w", name, err)
		}
		for _, r := range page.StackResourceSummaries {
			info.Resources[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
		}
		if aws.ToString(page.NextToken) == "" {
			return info, nil
		}
		in.NextToken = page.NextToken
	}
}

// Get returns an output, else the physical id of a resource, naming both
// when neither is there.
func (i Info) Get(output, resource string) (string, error) {
	if v := i.Outputs[output]; v != "" {
		return v, nil
	}
	if v := i.Resources[resource]; v != "" {
		return v, nil
	}
	return "", fmt.Errorf("stack %s has no output %s and no resource %s: is it a leadpipe stack, and up to date?", i.Name, output, resource)
}

// List splits a comma-separated parameter (StaffEmails, AllowedOrigins),
// dropping empty entries.
func (i Info) List(names ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		for _, v := range strings.Split(i.Parameters[n], ",") {
			if v = strings.TrimSpace(v); v != "" && !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// Defaults are what samconfig.toml says of the stack.
type Defaults struct {
	StackName string
	Region    string
}

// ReadSamconfig reads stack_name and region from the file at path (SAM's
// samconfig.toml): the [default.deploy.parameters] values, else
// [default.global.parameters]. A missing file gives zero Defaults and no
// error. Only these two string keys are read; SAM's other settings are
// not leadctl's business.
func ReadSamconfig(path string) (Defaults, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return Defaults{}, nil
	}
	if err != nil {
		return Defaults{}, err
	}
	defer f.Close()
	return parseSamconfig(f)
}

func parseSamconfig(r io.Reader) (Defaults, error) {
	var global, deploy Defaults
	var section *Defaults
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		switch {
		case s == "" || strings.HasPrefix(s, "#"):
			continue
		case strings.HasPrefix(s, "["):
			switch strings.TrimSpace(strings.Trim(s, "[]")) {
			case "default.global.parameters":
				section = &global
			case "default.deploy.parameters":
				section = &deploy
			default:
				section = nil
			}
			continue
		}
		if section == nil {
			continue
		}
		key, value, ok := strings.Cut(s, "=")
		if !ok {
			continue // a continued array, say
		}
		key = strings.TrimSpace(key)
		if key != "stack_name" && key != "region" {
			continue
		}
		v, err := tomlString(strings.TrimSpace(value))
		if err != nil {
			return Defaults{}, fmt.Errorf("samconfig.toml line %d: %s: %w", line, key, err)
		}
		if key == "stack_name" {
			section.StackName = v
		} else {
			section.Region = v
		}
	}
	if err := sc.Err(); err != nil {
		return Defaults{}, err
	}
	out := global
	if deploy.StackName != "" {
		out.StackName = deploy.StackName
	}
	if deploy.Region != "" {
		out.Region = deploy.Region
	}
	return out, nil
}

// tomlString reads a basic or literal TOML string with an optional
// trailing comment.
func tomlString(v string) (string, error) {
	if len(v) < 2 || (v[0] != '"' && v[0] != '\'') {
		return "", errors.New("not a quoted string")
	}
	q := v[0]
	end := strings.IndexByte(v[1:], q)
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	s, rest := v[1:1+end], strings.TrimSpace(v[2+end:])
	if rest != "" && !strings.HasPrefix(rest, "#") {
		return "", errors.New("unexpected text after the string")
	}
	if q == '"' && strings.Contains(s, `\`) {
		return "", errors.New("escapes are not supported here; write the name plainly")
	}
	return s, nil
}
