/// How `postdesk serve` writes its log on standard error: one line a event either way.
enum LogFormat: String, CaseIterable, Sendable {
    /// `TIMESTAMP LEVEL LABEL: key=value … [SOURCE] message`, as swift-log's StreamLogHandler, control characters escaped.
    case text
    /// One JSON object a line (RFC 8259): timestamp, level, label, message, metadata (string values), source.
    case json
}
