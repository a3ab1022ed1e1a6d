package options

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// maxPropertyLen bounds a user property: it is shown in the app and in
// Self-Service, and a profile name of a page is a mistake.
const maxPropertyLen = 200

// userProperties calls user_properties(user) and checks that it returns
// exactly the three user properties, each a non-empty line of text.
func (r *reader) userProperties() map[string]string {
	const name = "user_properties"
	v := r.value(name)
	if v == nil {
		return nil
	}
	fn, ok := v.(*starlark.Function)
	if !ok {
		r.failf(name, "user_properties must be a function, got %s", v.Type())
		return nil
	}
	if fn.NumParams() != 1 || fn.HasVarargs() || fn.HasKwargs() {
		r.failf(name, "user_properties must take exactly one parameter, the user")
		return nil
	}
	ret, err := starlark.Call(r.run.thread, fn, starlark.Tuple{r.run.user}, nil)
	if err != nil {
		r.err = r.run.fail(err)
		return nil
	}
	d, ok := ret.(*starlark.Dict)
	if !ok {
		r.failf(name, "user_properties must return a dict, got %s", ret.Type())
		return nil
	}
	props := make(map[string]string, len(userPropertyNames))
	for _, kv := range d.Items() {
		k, ok := kv[0].(starlark.String)
		if !ok {
			r.failf(name, "user_properties returned a key of type %s; it must return user_id, server_name and profile_name", kv[0].Type())
			return nil
		}
		key := string(k)
		if !slices.Contains(userPropertyNames, key) {
			hint := ""
			if s := suggest(key, userPropertyNames); s != "" {
				hint = " (did you mean " + s + "?)"
			}
			r.failf(name, "user_properties returned the unknown key %s%s; it must return user_id, server_name and profile_name",
				quote(key), hint)
			return nil
		}
		s, ok := kv[1].(starlark.String)
		if !ok {
			r.failf(name, "user_properties must return %s as a string, got %s", key, kv[1].Type())
			return nil
		}
		if msg := checkProperty(string(s)); msg != "" {
			r.failf(name, "%s from user_properties %s, got %s", key, msg, quote(string(s)))
			return nil
		}
		props[key] = string(s)
	}
	for _, key := range userPropertyNames {
		if _, ok := props[key]; !ok {
			r.failf(name, "user_properties did not return %s; it must return user_id, server_name and profile_name", key)
			return nil
		}
	}
	return props
}

// checkProperty returns what is wrong with a user property, or "".
func checkProperty(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "must not be empty"
	case !utf8.ValidString(s):
		return "must be UTF-8 text"
	case utf8.RuneCountInString(s) > maxPropertyLen:
		return fmt.Sprintf("must be at most %d characters long", maxPropertyLen)
	case strings.ContainsFunc(s, unicode.IsControl):
		return "must not contain control characters"
	}
	return ""
}
