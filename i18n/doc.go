// Package i18n holds tracewire's human-readable text in English and German:
// labels of the property names adapters report (advertisingId → "Advertising
// ID" / "Werbe-ID"), names of request contexts and indicator encodings,
// descriptions of tracking companies, and strings of reports and the CLI.
//
// Files (embedded): <lang>.yaml with the sections properties, contexts,
// encodings and ui (flat dotted keys such as "detect.noFindings"),
// ui.<lang>.yaml with more ui keys (the report's strings, "report.*"),
// trackers/<slug>.<lang>.md with one Markdown description per tracking
// company and language, and adapters/<slug or common>.<lang>.yaml with the
// translations of the adapter database's English texts (reasoning texts,
// tracker and adapter names), keyed by the English text. Lookups fall back
// to English, then to the key itself, so a missing string never breaks a
// report; tests make sure none is missing.
package i18n
