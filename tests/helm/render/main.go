// render: `helm template` for mtool's chart, here where no helm binary exists (Debian does not
// package it). It renders the way Helm 3 does: Go's text/template with the Sprig function
// library (the same package Helm uses), Helm's own functions (include, tpl, required, toYaml,
// fromYaml, toJson, lookup), Helm's built-in objects (.Values, .Release, .Chart, .Capabilities,
// .Template, .Files with Get), values merged from values.yaml, -f files and --set, and the merged values checked
// against values.schema.json with gojsonschema (Helm's validator) before anything renders.
// Users with Helm get the same manifests from `helm template` and `helm lint`.
//
//	usage: render [-f values.yaml]... [--set a.b=c]... [--name NAME] [--namespace NS] CHART_DIR
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/xeipuuv/gojsonschema"
	"gopkg.in/yaml.v3"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "Error: "+format+"\n", args...)
	os.Exit(1)
}

// normalize turns yaml.v3's map[string]interface{} trees into JSON-compatible values.
func normalize(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		for k, e := range t {
			t[k] = normalize(e)
		}
		return t
	case map[interface{}]interface{}:
		out := map[string]interface{}{}
		for k, e := range t {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []interface{}:
		for i, e := range t {
			t[i] = normalize(e)
		}
		return t
	}
	return v
}

func readYAML(path string) map[string]interface{} {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		fail("%s: %v", path, err)
	}
	return normalize(out).(map[string]interface{})
}

// merge overlays src on dst as Helm coalesces values: maps merge, everything else replaces;
// a null deletes the key.
func merge(dst, src map[string]interface{}) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// setValue applies one --set a.b.c=value (the value read as a YAML scalar, as Helm does for
// numbers and booleans).
func setValue(values map[string]interface{}, assignment string) {
	eq := strings.Index(assignment, "=")
	if eq < 0 {
		fail("--set %q: no '='", assignment)
	}
	path := strings.Split(assignment[:eq], ".")
	raw := assignment[eq+1:]
	var value interface{}
	if strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") {
		// Helm's list syntax: --set a={x,y}
		var list []interface{}
		for _, item := range strings.Split(raw[1:len(raw)-1], ",") {
			list = append(list, item)
		}
		value = list
	} else if err := yaml.Unmarshal([]byte(raw), &value); err != nil || value == nil {
		value = raw
	}
	m := values
	for _, key := range path[:len(path)-1] {
		next, ok := m[key].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			m[key] = next
		}
		m = next
	}
	m[path[len(path)-1]] = normalize(value)
}

// files is Helm's .Files: the chart's files outside templates/, by their path in the chart.
type files map[string][]byte

// Get is .Files.Get: a file's content, "" when there is no such file (as Helm).
func (f files) Get(name string) string { return string(f[name]) }

func chartFiles(chartDir string) files {
	out := files{}
	_ = filepath.Walk(chartDir, func(path string, info os.FileInfo, err error) error {
		rel, _ := filepath.Rel(chartDir, path)
		if err != nil || rel == "templates" && info.IsDir() {
			return filepath.SkipDir
		}
		if !info.IsDir() {
			if data, err := os.ReadFile(path); err == nil {
				out[filepath.ToSlash(rel)] = data
			}
		}
		return nil
	})
	return out
}

func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func main() {
	var valueFiles, sets multiFlag
	flag.Var(&valueFiles, "f", "values file (repeatable)")
	flag.Var(&sets, "set", "a.b=value (repeatable)")
	name := flag.String("name", "mtool", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	flag.Parse()
	if flag.NArg() != 1 {
		fail("usage: render [-f values.yaml]... [--set a.b=c]... [--name NAME] CHART_DIR")
	}
	chartDir := flag.Arg(0)

	chart := readYAML(filepath.Join(chartDir, "Chart.yaml"))
	values := readYAML(filepath.Join(chartDir, "values.yaml"))
	for _, f := range valueFiles {
		merge(values, readYAML(f))
	}
	for _, s := range sets {
		setValue(values, s)
	}

	if schema, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json")); err == nil {
		result, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewGoLoader(values))
		if err != nil {
			fail("values.schema.json: %v", err)
		}
		if !result.Valid() {
			var problems []string
			for _, e := range result.Errors() {
				problems = append(problems, "- "+e.String())
			}
			fail("values don't meet the specifications of the schema(s) in the following chart(s):\n%s:\n%s",
				chart["name"], strings.Join(problems, "\n"))
		}
	}

	chartName := fmt.Sprint(chart["name"])
	root := template.New(chartName)
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		out := map[string]interface{}{}
		_ = yaml.Unmarshal([]byte(s), &out)
		return normalize(out).(map[string]interface{})
	}
	funcs["toJson"] = func(v interface{}) string { b, _ := json.Marshal(v); return string(b) }
	funcs["required"] = func(message string, v interface{}) (interface{}, error) {
		if v == nil || v == "" {
			return nil, fmt.Errorf(message)
		}
		return v, nil
	}
	funcs["lookup"] = func(string, string, string, string) map[string]interface{} { return map[string]interface{}{} }
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	root.Funcs(funcs).Option("missingkey=zero")

	var files []string
	templates := filepath.Join(chartDir, "templates")
	_ = filepath.Walk(templates, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	sort.Strings(files)
	for _, path := range files {
		text, err := os.ReadFile(path)
		if err != nil {
			fail("%v", err)
		}
		rel, _ := filepath.Rel(chartDir, path)
		if _, err := root.New(chartName + "/" + rel).Parse(string(text)); err != nil {
			fail("parse error in %s: %v", rel, err)
		}
	}

	data := map[string]interface{}{
		"Values": values,
		"Chart": map[string]interface{}{
			"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"],
			"Description": chart["description"],
		},
		"Release": map[string]interface{}{
			"Name": *name, "Namespace": *namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false,
			"Revision": 1,
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.29.0", "Major": "1", "Minor": "29"},
		},
		"Files": chartFiles(chartDir),
	}
	for _, path := range files {
		rel, _ := filepath.Rel(chartDir, path)
		base := filepath.Base(rel)
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" {
			continue
		}
		data["Template"] = map[string]interface{}{"Name": chartName + "/" + rel, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, chartName+"/"+rel, data); err != nil {
			fail("%v", err)
		}
		if strings.TrimSpace(buf.String()) == "" {
			continue
		}
		fmt.Printf("---\n# Source: %s/%s\n%s\n", chartName, rel, strings.TrimSpace(buf.String()))
	}
}
