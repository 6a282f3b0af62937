/// What a fake server sends in answer to something, and what it does next.
public struct FakeMailReply: Sendable {
    /// What is sent, in order (any `{tag}` already replaced by the session).
    public var steps: [FakeMailScript.Step]
    /// What happens after sending.
    public var then: FakeMailScript.Then
    /// The client line this answers was not expected (recorded in `FakeMailServer.unexpectedLines`).
    public var unexpected: Bool
    /// When set, every byte is sent on its own with this pause before it: a slow link.
    public var drip: Duration?

    /// A reply.
    public init(
        _ steps: [FakeMailScript.Step], then: FakeMailScript.Then = .next, unexpected: Bool = false,
        drip: Duration? = nil
    ) {
        self.steps = steps
        self.then = then
        self.unexpected = unexpected
        self.drip = drip
    }

    /// A reply of lines (CRLF is added).
    public static func lines(_ lines: [String], then: FakeMailScript.Then = .next) -> FakeMailReply {
        FakeMailReply(lines.map(FakeMailScript.Step.line), then: then)
    }

    /// The bytes the steps send, pauses left out.
    public var bytes: [UInt8] {
        steps.flatMap { step -> [UInt8] in
            switch step {
            case .line(let line): Array(line.utf8) + [13, 10]
            case .bytes(let bytes): bytes
            case .pause: []
            }
        }
    }
}
