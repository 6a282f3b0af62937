import Foundation
import Logging

/// A swift-log handler that keeps every line (message and metadata) in memory, so a test can check what a client
/// logged, e.g. that no access token appears at trace level.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    /// A trace-level logger writing into this capture.
    func logger(label: String) -> Logger {
        var logger = Logger(label: label) { _ in CapturedLogHandler(log: self) }
        logger.logLevel = .trace
        return logger
    }

    /// Everything logged so far, one entry per line.
    var all: [String] { lock.withLock { lines } }

    fileprivate func append(_ line: String) { lock.withLock { lines.append(line) } }
}

/// The `LogHandler` behind `CapturedLog`.
struct CapturedLogHandler: LogHandler {
    let log: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        log.append("\(event.level) \(event.message) \(merged)")
    }
}
