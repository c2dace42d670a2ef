// Package source is the extension point of the sikkerkey loader: it defines
// where secret values come from.
//
// A Source answers one batch of requests with one call:
//
//	type Source interface {
//		Lookup(ctx context.Context, reqs []Request) (map[string]Value, error)
//	}
//
// The loader collects every secret id a configuration references, asks the
// first source for all of them, the second source for those the first did
// not have, and so on (precedence is per secret id: the first source that
// has an id supplies all of that id's value and fields). An id a source does
// not have is simply absent from the map it returns. A non-nil error fails
// the load; it is never taken to mean "not found". To fail only some ids,
// return *IDError values (joined with errors.Join when there are several).
//
// This package provides:
//
//   - SikkerKey: secrets read through an *sdk.Client (batched: one export
//     round trip for many ids, bounded-parallel reads for a few), with
//     rotation polling.
//   - Env: environment variables named by the export rule: secret sk_db_prod
//     is SK_DB_PROD, its field password is SK_DB_PROD_PASSWORD.
//   - File: a JSON file mapping secret ids to a string or an object of fields.
//   - Dir: a directory with one file per secret id, such as a Kubernetes
//     secret volume.
//   - Map: values in memory, for tests and examples.
//   - Func: an adapter that turns a function into a Source.
//
// Sources whose values change while a program runs can implement two
// optional interfaces, discovered by type assertion: Watcher (pushes
// changes, as File and Dir do through fsnotify) and Poller (answers "what
// changed?" on the loader's schedule, as SikkerKey does). A source may also
// implement fmt.Stringer to name itself in error messages.
//
// Values are strings. A value holding a JSON object is a structured secret:
// its members become fields as the SikkerKey protocol converts them (a
// string stays as is, numbers and booleans become their JSON text, null
// becomes "", nested objects and arrays their compact JSON text).
package source
