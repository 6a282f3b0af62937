import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The swift-log handler `postdesk serve` bootstraps: every event as one line (`LogLine`) in the chosen format, written
/// whole by one `LogOutput`, so lines of concurrent tasks never interleave.
struct PostdeskLogHandler: LogHandler {
    var label: String
    var format: LogFormat
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    let output: LogOutput

    init(
        label: String, format: LogFormat, level: Logger.Level, output: LogOutput = .standardError,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.output = output
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, provided in provided } }
        if let explicit = event.metadata { merged.merge(explicit) { _, explicit in explicit } }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        let line = LogLine(
            time: Date(), level: event.level, label: label, message: event.message.description, metadata: merged,
            source: event.source)
        output.write(line.formatted(format))
    }
}

/// Where log lines go: a file descriptor (standard error), each line written whole under a lock; or, in tests, a
/// closure that collects them.
final class LogOutput: @unchecked Sendable {
    private let lock = NSLock()
    private let sink: (String) -> Void

    /// Lines go to `sink` (called under the lock, one line at a time, without line ends).
    init(sink: @escaping (String) -> Void) {
        self.sink = sink
    }

    /// Standard error, a line a `write(2)` loop.
    static let standardError = LogOutput { line in writeAll(Array((line + "\n").utf8), to: STDERR_FILENO) }

    func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        sink(line)
    }
}

/// Writes all of `bytes` to `descriptor`, again after an interruption; gives up on any other error (a log line has
/// nowhere else to go).
private func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
    var written = 0
    while written < bytes.count {
        let result = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if result > 0 {
            written += result
        } else if result < 0 && errno == EINTR {
            continue
        } else {
            return
        }
    }
}
