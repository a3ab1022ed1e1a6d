// Package options evaluates the administrator's option scripts.
//
// Each process of Lanyard that an administrator may tune has one script,
// written in Starlark, that sets the options of that process by plain
// assignments and, for the mobile ID processes, computes the properties of
// the user's profile in a user_properties(user) function. The package is a
// pure engine: it compiles a script, runs it for one user under a step and
// a time limit, checks every value and returns a typed result. It reads no
// files, opens no connections and stores nothing; storing, versioning and
// auditing scripts is the business of its callers.
//
// # What a script sees
//
// A script sees one predeclared value, user, with the read-only fields
// email, common_name, username and attributes (a read-only mapping of
// strings to strings with get, keys, values and items), and the Starlark
// built-ins. The same user is passed to user_properties. A script cannot
// load other files, and print goes to Config.Print, discarded by default.
// The whole language is allowed, while loops, recursion and top-level if
// and for included: the step and time limits bound what a script costs.
//
// # What a script must say
//
// Administrators edit the default script (DefaultScript) rather than
// write one, so a script must set every option of its process and, for
// the mobile ID processes, define user_properties; a missing name is
// refused rather than silently defaulted, so that a deleted line never
// changes what users get without anyone deciding it. Any other top-level
// name is refused as a likely misspelling, with the nearest known name
// suggested, unless it starts with _ (a private helper value) or is bound
// only by def (a helper function). Values are checked for type and range:
// validity_years 1 to 10, recover_latest 0 to 50, encryption_recovery
// "automatic" or "manual", at least one certificate kind issued, and
// user_properties returning exactly user_id, server_name and profile_name
// as non-empty single-line strings. The expiry reminder days are each 1 to
// 365, may be listed in any order but not twice, and are returned largest
// first; email_each_day_after_last needs at least one of them.
//
// Every problem is a *lanyard.Error with code EINVALID and a message for
// an administrator that gives the line and column where they are known
// and, for problems found while running, the user the script ran for.
package options
