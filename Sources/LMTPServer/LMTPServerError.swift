/// The one error type of LMTPServer: an opaque code, a message for the admin, the underlying error.
public struct LMTPServerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a closed but extensible set.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: String, Hashable, Sendable {
            case invalidAddress, bindFailed
        }
        fileprivate let value: Value
        /// A listen address that is neither `HOST:PORT` nor `unix:PATH`.
        public static let invalidAddress = Code(value: .invalidAddress)
        /// The listener could not be opened (port in use, no permission on the socket's directory).
        public static let bindFailed = Code(value: .bindFailed)

        public var description: String { value.rawValue }
    }

    public var code: Code
    /// One line for the admin.
    public var message: String
    public var underlying: (any Error)?
    public var file: String
    public var line: Int

    /// An error with its code and message.
    public init(
        _ code: Code, _ message: String, underlying: (any Error)? = nil, file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public var description: String {
        message + (underlying.map { ": \($0)" } ?? "")
    }
}
