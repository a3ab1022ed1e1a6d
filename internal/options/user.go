package options

import (
	"fmt"
	"maps"
	"slices"

	"go.starlark.net/starlark"
)

// User is the user a script is evaluated for. The caller converts its own
// user type to this one, so the engine depends on nothing but Starlark.
type User struct {
	Username   string
	Email      string
	CommonName string

	// Attributes are the user's extra directory attributes, such as a
	// department; scripts read them as user.attributes["dept"].
	Attributes map[string]string
}

// SampleUser returns the user scripts are validated with when the caller
// names none: alice, alice@example.com, "Alice Example", no attributes.
func SampleUser() User {
	return User{Username: "alice", Email: "alice@example.com", CommonName: "Alice Example"}
}

// userValue is the read-only Starlark value of a User.
type userValue struct {
	u     User
	attrs *attributes
}

var (
	_ starlark.HasAttrs    = (*userValue)(nil)
	_ starlark.HasSetField = (*userValue)(nil)
)

// userFields are the names a script may read from user.
var userFields = []string{"attributes", "common_name", "email", "username"}

func newUserValue(u User) *userValue {
	d := starlark.NewDict(len(u.Attributes))
	for _, k := range slices.Sorted(maps.Keys(u.Attributes)) {
		_ = d.SetKey(starlark.String(k), starlark.String(u.Attributes[k]))
	}
	d.Freeze()
	return &userValue{u: u, attrs: &attributes{d: d}}
}

func (v *userValue) String() string        { return fmt.Sprintf("user(%q)", v.u.Username) }
func (v *userValue) Type() string          { return "user" }
func (v *userValue) Freeze()               {}
func (v *userValue) Truth() starlark.Bool  { return true }
func (v *userValue) Hash() (uint32, error) { return starlark.String(v.u.Username).Hash() }
func (v *userValue) AttrNames() []string   { return slices.Clone(userFields) }

func (v *userValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "username":
		return starlark.String(v.u.Username), nil
	case "email":
		return starlark.String(v.u.Email), nil
	case "common_name":
		return starlark.String(v.u.CommonName), nil
	case "attributes":
		return v.attrs, nil
	}
	return nil, nil // Starlark reports the missing field and suggests one.
}

// SetField refuses every assignment: the user is an input of the script,
// never an output.
func (v *userValue) SetField(name string, _ starlark.Value) error {
	return fmt.Errorf("user is read-only: cannot assign user.%s", name)
}

// attributes is the read-only mapping user.attributes. It wraps a frozen
// dict for lookups and iteration and gives clear messages for writes.
type attributes struct{ d *starlark.Dict }

var (
	_ starlark.IterableMapping = (*attributes)(nil)
	_ starlark.HasSetKey       = (*attributes)(nil)
	_ starlark.HasAttrs        = (*attributes)(nil)
	_ starlark.Sequence        = (*attributes)(nil)
)

// attributeMethods are the dict methods that only read.
var attributeMethods = []string{"get", "items", "keys", "values"}

func (a *attributes) String() string        { return a.d.String() }
func (a *attributes) Type() string          { return "user.attributes" }
func (a *attributes) Freeze()               {}
func (a *attributes) Truth() starlark.Bool  { return a.d.Truth() }
func (a *attributes) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: user.attributes") }
func (a *attributes) Len() int              { return a.d.Len() }
func (a *attributes) Iterate() starlark.Iterator {
	return a.d.Iterate()
}
func (a *attributes) Items() []starlark.Tuple { return a.d.Items() }
func (a *attributes) AttrNames() []string     { return slices.Clone(attributeMethods) }

func (a *attributes) Get(k starlark.Value) (starlark.Value, bool, error) {
	return a.d.Get(k)
}

func (a *attributes) Attr(name string) (starlark.Value, error) {
	switch name {
	case "get", "items", "keys", "values":
		return a.d.Attr(name)
	case "clear", "pop", "popitem", "setdefault", "update":
		return nil, fmt.Errorf("user.attributes is read-only: cannot call user.attributes.%s", name)
	}
	return nil, nil // Starlark reports the missing method and suggests one.
}

// SetKey refuses every assignment, as userValue.SetField does.
func (a *attributes) SetKey(k, _ starlark.Value) error {
	return fmt.Errorf("user.attributes is read-only: cannot assign user.attributes[%s]", k)
}
