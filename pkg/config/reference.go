package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// KeysMarkdown renders every key of the schema (Keys) as a Markdown table:
// key, type, default and the key's doc tag. docs/configuration.md holds
// it between KeysBegin and KeysEnd; a test fails when the page is stale.
func KeysMarkdown() string {
	var b strings.Builder
	b.WriteString("| key | type | default | meaning |\n|---|---|---|---|\n")
	for _, k := range Keys() {
		typ := k.Type
		switch typ {
		case "block":
			typ = "kind or {kind: …, options}"
		case "blocks":
			typ = "list of {" + blocksKindKey(k.Key) + ": …, options}"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k.Key, typ, markdownDefault(k.Default), markdownText(k.Doc))
	}
	return b.String()
}

// KeysBegin and KeysEnd enclose the generated table in a Markdown page.
const (
	KeysBegin = "<!-- BEGIN KEYS: generated from pkg/config's doc tags by `go test ./pkg/config -run TestKeysReference -update`; do not edit -->"
	KeysEnd   = "<!-- END KEYS -->"
)

// blocksKindKey is the key naming the kind of each entry of a list of
// blocks: type for layers, kind for augmentations.
func blocksKindKey(key string) string {
	if key == "model.layers" {
		return "type"
	}
	return "kind"
}

// markdownDefault writes a default value as code, or "—" when it is the
// zero value of a string or an empty list (no default).
func markdownDefault(v any) string {
	rv := reflect.ValueOf(v)
	switch {
	case v == nil, rv.Kind() == reflect.String && rv.Len() == 0, rv.Kind() == reflect.Slice && rv.Len() == 0:
		return "—"
	case rv.Kind() == reflect.Slice:
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(rv.Index(i).Interface())
		}
		return "`[" + strings.Join(parts, ", ") + "]`"
	case rv.Kind() == reflect.Float64:
		return "`" + strconv.FormatFloat(rv.Float(), 'g', -1, 64) + "`"
	}
	return "`" + markdownCell(fmt.Sprint(v)) + "`"
}

// markdownCell escapes what would end a table cell.
func markdownCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// markdownText escapes a table cell of prose, where <unk> would be taken
// for an HTML tag.
func markdownText(s string) string { return strings.ReplaceAll(markdownCell(s), "<", "&lt;") }
