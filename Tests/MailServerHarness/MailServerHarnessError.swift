/// Why the harness could not start, stop or query a mail server.
///
/// The description always names the log or output file to read next; it never contains passwords or message bodies.
public struct MailServerHarnessError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: String, Hashable, Sendable {
            case notInstalled = "not installed"
            case startFailed = "start failed"
            case portClash = "port clash"
            case commandFailed = "command failed"
            case invalidArgument = "invalid argument"
            case timeout = "timeout"
            case stopped = "stopped"
        }
        fileprivate let value: Value

        /// `dovecot`, `smtpd`, `openssl` or `unshare` is missing: run scripts/install-deps.sh.
        public static let notInstalled = Code(value: .notInstalled)
        /// A server did not come up; the message names its log file.
        public static let startFailed = Code(value: .startFailed)
        /// A chosen port was taken by someone else (the harness retries with other ports first).
        public static let portClash = Code(value: .portClash)
        /// A helper command (`doveadm`, `openssl`) exited non-zero; the message holds its stderr.
        public static let commandFailed = Code(value: .commandFailed)
        /// The caller passed something the servers cannot take (e.g. `:` in a password).
        public static let invalidArgument = Code(value: .invalidArgument)
        /// A wait ran out of time.
        public static let timeout = Code(value: .timeout)
        /// The instance was already stopped.
        public static let stopped = Code(value: .stopped)

        /// A short human-readable name of the code.
        public var description: String { value.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What happened, with the paths of the logs to read.
    public var message: String
    /// The source file that raised the error.
    public var file: String
    /// The source line that raised the error.
    public var line: Int

    /// Creates an error.
    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    /// `MailServerHarnessError(start failed): … (at file:line)`.
    public var description: String {
        "MailServerHarnessError(\(code)): \(message) (at \(file):\(line))"
    }
}
