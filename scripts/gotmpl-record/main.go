// Command gotmpl-record renders template case files with Go's text/template and
// sprig's function map, writing the outputs the gotmpl crate's tests compare against.
//
// Usage: gotmpl-record CASES.json OUT.expected.json
//
// A case file is {"data": {...}, "cases": [{"name", "tmpl", "missingkey"?}]}, with
// "dockerGenYaml": true to add docker-gen's fromYaml/mustFromYaml/toYaml/mustToYaml
// (gopkg.in/yaml.v3, as docker-gen 0.17 defines them) over sprig's functions.
// The data is decoded with UseNumber: integers become int (uint64 when above the
// int64 range), other numbers float64, the same rule the Rust crate applies.
// Each case is parsed as a template named after the case and executed over the
// data; the result is {"name", "ok", "out", "err"?} with "parse: " or "exec: "
// before Go's error text. Run it with TZ=UTC: sprig's date functions use the
// local zone.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"text/template"

	sprig "github.com/Masterminds/sprig"
	yaml "gopkg.in/yaml.v3"
)

type caseFile struct {
	DockerGenYaml bool        `json:"dockerGenYaml"`
	Data          interface{} `json:"data"`
	Cases         []struct {
		Name       string `json:"name"`
		Tmpl       string `json:"tmpl"`
		Missingkey string `json:"missingkey"`
	} `json:"cases"`
}

type result struct {
	Name string `json:"name"`
	Ok   bool   `json:"ok"`
	Out  string `json:"out"`
	Err  string `json:"err,omitempty"`
}

// convert turns json.Number into int, uint64 or float64, recursively.
func convert(v interface{}) interface{} {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return int(i)
		}
		if u, err := strconv.ParseUint(string(x), 10, 64); err == nil {
			return u
		}
		f, _ := x.Float64()
		return f
	case map[string]interface{}:
		for k, e := range x {
			x[k] = convert(e)
		}
		return x
	case []interface{}:
		for i, e := range x {
			x[i] = convert(e)
		}
		return x
	}
	return v
}

// dockerGenYaml is docker-gen's YAML family: errors ignored by the plain forms, the
// encoder's output returned as it is (with its final newline).
func dockerGenYaml() template.FuncMap {
	mustFrom := func(v string) (interface{}, error) {
		var out interface{}
		err := yaml.Unmarshal([]byte(v), &out)
		return out, err
	}
	mustTo := func(v interface{}) (string, error) {
		out, err := yaml.Marshal(v)
		if err != nil {
			return "", err
		}
		return string(out), nil
	}
	return template.FuncMap{
		"fromYaml":     func(v string) interface{} { out, _ := mustFrom(v); return out },
		"mustFromYaml": mustFrom,
		"toYaml":       func(v interface{}) string { out, _ := mustTo(v); return out },
		"mustToYaml":   mustTo,
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gotmpl-record CASES.json OUT.expected.json")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var cf caseFile
	if err := dec.Decode(&cf); err != nil {
		fmt.Fprintln(os.Stderr, os.Args[1], err)
		os.Exit(1)
	}
	results := make([]result, 0, len(cf.Cases))
	for _, c := range cf.Cases {
		// Each case sees its own copy of the data, so a case that mutates it
		// (sprig's set, append on a shared list) cannot leak into the next.
		var data interface{}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var fresh caseFile
		if err := dec.Decode(&fresh); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		data = convert(fresh.Data)

		r := result{Name: c.Name}
		t := template.New(c.Name).Funcs(sprig.TxtFuncMap())
		if cf.DockerGenYaml {
			t = t.Funcs(dockerGenYaml())
		}
		if c.Missingkey != "" {
			t = t.Option("missingkey=" + c.Missingkey)
		}
		t, err := t.Parse(c.Tmpl)
		if err != nil {
			r.Err = "parse: " + err.Error()
			results = append(results, r)
			continue
		}
		var out bytes.Buffer
		if err := t.Execute(&out, data); err != nil {
			r.Err = "exec: " + err.Error()
		} else {
			r.Ok = true
		}
		r.Out = out.String()
		results = append(results, r)
	}
	enc, err := json.MarshalIndent(results, "", " ")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	enc = append(enc, '\n')
	if err := os.WriteFile(os.Args[2], enc, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
