import Foundation

/// What a `FakeMailServer` says and expects on every connection: a greeting, then an ordered list of exchanges
/// (an expected client line and the lines to answer), plus exchanges that may come at any time (LOGOUT, QUIT).
///
/// For IMAP (`tagged`), the client's tag is cut off before matching and `{tag}` in reply lines becomes that tag;
/// a line answering a `+` continuation keeps the previous command's tag and is matched whole.
public struct FakeMailScript: Sendable {
    /// How a client line is recognised (case-insensitive).
    public enum Match: Sendable {
        /// The line (after the tag, for tagged scripts) starts with this text.
        case prefix(String)
        /// The line (after the tag, for tagged scripts) matches this regular expression somewhere.
        case regex(String)
        /// Any line.
        case any
    }

    /// What the server does after answering.
    public enum Then: Sendable {
        /// Waits for the next client line.
        case next
        /// Closes the connection.
        case close
        /// Says nothing more and never closes (for timeout tests): reads and drops what the client sends.
        case silence
    }

    /// One piece of what the server sends: the faults a real network or a broken server produces are
    /// sequences of these (half a literal then `.close`, garbage bytes, a slow drip).
    public enum Step: Sendable, Equatable {
        /// A line; CRLF is added and `{tag}` becomes the client's tag.
        case line(String)
        /// Bytes exactly as given (a literal's contents, garbage, a line without CRLF).
        case bytes([UInt8])
        /// Waits this long before the next step.
        case pause(Duration)
    }

    /// One expected client line and the answer.
    public struct Exchange: Sendable {
        /// Which client line this answers.
        public var match: Match
        /// What is sent back.
        public var steps: [Step]
        /// What happens after the reply.
        public var then: Then

        /// An exchange answering with lines (CRLF is added); `{tag}` is replaced by the client's tag.
        public init(_ match: Match, reply: [String], then: Then = .next) {
            self.init(match, steps: reply.map(Step.line), then: then)
        }

        /// An exchange answering with any steps.
        public init(_ match: Match, steps: [Step], then: Then = .next) {
            self.match = match
            self.steps = steps
            self.then = then
        }

        /// The lines of the reply (its `.line` steps).
        public var reply: [String] {
            steps.compactMap { step in
                if case .line(let line) = step { return line }
                return nil
            }
        }

        /// An exchange for a line starting with `prefix`.
        public static func expect(_ prefix: String, _ reply: String..., then: Then = .next) -> Exchange {
            Exchange(.prefix(prefix), reply: reply, then: then)
        }

        /// An exchange for a line matching the regular expression `pattern`.
        public static func expect(regex pattern: String, _ reply: String..., then: Then = .next) -> Exchange {
            Exchange(.regex(pattern), reply: reply, then: then)
        }
    }

    /// The greeting lines; `nil` for a server that accepts the connection and never says anything.
    public var greeting: [String]?
    /// IMAP-style tags on client commands.
    public var tagged: Bool
    /// The exchanges, in the order the client must send them.
    public var exchanges: [Exchange]
    /// Exchanges allowed at any point, tried when the next ordered exchange does not match
    /// (e.g. LOGOUT, QUIT, CAPABILITY after login).
    public var anytime: [Exchange]
    /// The answer to a line that matches nothing (then the connection is closed); `{tag}` works here too.
    public var unexpectedReply: [String]

    /// A script.
    public init(
        greeting: [String]?,
        tagged: Bool,
        exchanges: [Exchange],
        anytime: [Exchange] = [],
        unexpectedReply: [String]
    ) {
        self.greeting = greeting
        self.tagged = tagged
        self.exchanges = exchanges
        self.anytime = anytime
        self.unexpectedReply = unexpectedReply
    }

    /// An IMAP script: tagged, LOGOUT answered at any time, `{tag} BAD` for anything unexpected.
    public static func imap(greeting: String?, _ exchanges: [Exchange], anytime: [Exchange] = []) -> FakeMailScript {
        FakeMailScript(
            greeting: greeting.map { [$0] },
            tagged: true,
            exchanges: exchanges,
            anytime: anytime + [.expect("LOGOUT", "* BYE LOGOUT received", "{tag} OK LOGOUT completed", then: .close)],
            unexpectedReply: ["{tag} BAD unexpected command (fake server script)"]
        )
    }

    /// A POP3 script: QUIT answered at any time, `-ERR` for anything unexpected.
    public static func pop3(greeting: String?, _ exchanges: [Exchange], anytime: [Exchange] = []) -> FakeMailScript {
        FakeMailScript(
            greeting: greeting.map { [$0] },
            tagged: false,
            exchanges: exchanges,
            anytime: anytime + [.expect("QUIT", "+OK bye", then: .close)],
            unexpectedReply: ["-ERR unexpected command (fake server script)"]
        )
    }

    /// Whether `line` (tag already removed) is matched by `match`.
    static func matches(_ match: Match, _ line: String) -> Bool {
        switch match {
        case .any:
            return true
        case .prefix(let prefix):
            return line.lowercased().hasPrefix(prefix.lowercased())
        case .regex(let pattern):
            guard let expression = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) else {
                return false
            }
            let range = NSRange(line.startIndex..<line.endIndex, in: line)
            return expression.firstMatch(in: line, options: [], range: range) != nil
        }
    }
}
