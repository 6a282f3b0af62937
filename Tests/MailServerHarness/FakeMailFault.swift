import Foundation

/// A fault a fake mailbox server replays: when, on which connections, and what it does instead of (or around) its
/// normal answer. Faults fire in the order given, each at most `times` times over all connections.
public struct FakeMailFault: Sendable {
    /// What sets a fault off.
    public enum Trigger: Sendable {
        /// The greeting, as the client connects.
        case greeting
        /// A client command matching this regular expression (case-insensitive), after the tag for IMAP. `DONE`
        /// ending IDLE is a command too.
        case command(String)
    }

    /// What the server does when the fault fires.
    public enum Action: Sendable {
        /// Sends these steps instead of the normal answer (which is not carried out: a refused STORE sets no
        /// flag), then `then`. `{tag}` in a line becomes the command's tag.
        case replace([FakeMailScript.Step], then: FakeMailScript.Then)
        /// Carries out the command and sends `before`, the normal answer and `after`, then `then`.
        case surround(before: [FakeMailScript.Step], after: [FakeMailScript.Step], then: FakeMailScript.Then)
        /// Carries out the command and sends nothing, then `then`: the server did it, but the answer was lost.
        case carryOutSilently(then: FakeMailScript.Then)
        /// Sends the normal answer up to half-way through its `literal`-th literal (0 for the first), then closes:
        /// a connection lost mid-transfer.
        case cutInsideLiteral(Int)
        /// Sends this answer and every later one of the connection a byte at a time, `every` apart.
        case drip(every: Duration)
    }

    /// What sets it off.
    public var trigger: Trigger
    /// The connections (1 for the first) it may fire on; nil for any.
    public var connections: Set<Int>?
    /// How many times it fires at most, over all connections.
    public var times: Int
    /// What it does.
    public var action: Action

    /// A fault.
    public init(_ trigger: Trigger, on connections: Set<Int>? = [1], times: Int = 1, _ action: Action) {
        self.trigger = trigger
        self.connections = connections
        self.times = times
        self.action = action
    }

    /// A fault on the first command matching `pattern` on connection 1.
    public static func on(_ pattern: String, connection: Int = 1, _ action: Action) -> FakeMailFault {
        FakeMailFault(.command(pattern), on: [connection], action)
    }

    /// The normal answer, then the connection is closed without a word.
    public static let dropAfterAnswer = Action.surround(before: [], after: [], then: .close)

    /// No answer at all, and the connection stays open: a server that stopped answering.
    public static let stopAnswering = Action.replace([], then: .silence)

    func matches(_ trigger: Trigger, connection: Int) -> Bool {
        if let connections, !connections.contains(connection) { return false }
        switch (self.trigger, trigger) {
        case (.greeting, .greeting):
            return true
        case (.command(let pattern), .command(let line)):
            return FakeMailScript.matches(.regex(pattern), line)
        default:
            return false
        }
    }
}

/// The faults of one fake server and how often each has fired, shared by its connections.
final class FakeMailFaultBook: @unchecked Sendable {
    private let lock = NSLock()
    private let faults: [FakeMailFault]
    private var fired: [Int]

    init(_ faults: [FakeMailFault]) {
        self.faults = faults
        self.fired = Array(repeating: 0, count: faults.count)
    }

    /// The first fault that `trigger` on `connection` sets off, counted as fired.
    func take(_ trigger: FakeMailFault.Trigger, connection: Int) -> FakeMailFault.Action? {
        lock.withLock {
            for index in faults.indices
            where fired[index] < faults[index].times && faults[index].matches(trigger, connection: connection) {
                fired[index] += 1
                return faults[index].action
            }
            return nil
        }
    }

    /// How many times each fault fired, in the order given.
    var counts: [Int] { lock.withLock { fired } }
}

extension FakeMailFaultBook {
    /// The reply to `trigger`: the normal answer (made only when needed, so a replaced command changes nothing),
    /// or what a fault that fires makes of it. `drip` is the connection's slow-link setting, which a `.drip` fault
    /// turns on for good.
    func answer(
        _ trigger: FakeMailFault.Trigger, connection: Int, tag: String, drip: inout Duration?,
        normal: () -> FakeMailReply
    ) -> FakeMailReply {
        func tagged(_ steps: [FakeMailScript.Step]) -> [FakeMailScript.Step] {
            steps.map { step in
                if case .line(let text) = step { return .line(text.replacingOccurrences(of: "{tag}", with: tag)) }
                return step
            }
        }
        guard let action = take(trigger, connection: connection) else {
            var reply = normal()
            reply.drip = drip
            return reply
        }
        switch action {
        case .replace(let steps, let then):
            return FakeMailReply(tagged(steps), then: then, drip: drip)
        case .surround(let before, let after, let then):
            let reply = normal()
            return FakeMailReply(
                tagged(before) + reply.steps + tagged(after), then: then, unexpected: reply.unexpected, drip: drip)
        case .carryOutSilently(let then):
            _ = normal()
            return FakeMailReply([], then: then)
        case .cutInsideLiteral(let literal):
            let bytes = normal().bytes
            return FakeMailReply([.bytes(Array(bytes[..<Self.cutPoint(in: bytes, literal: literal)]))], then: .close)
        case .drip(let every):
            drip = every
            var reply = normal()
            reply.drip = every
            return reply
        }
    }

    /// Half-way into the `literal`-th `{n}` CRLF literal of `bytes` (RFC 3501 §4.3); half of all when there is none.
    static func cutPoint(in bytes: [UInt8], literal: Int) -> Int {
        var seen = 0
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "{") {
                var end = index + 1
                while end < bytes.count, bytes[end] >= UInt8(ascii: "0"), bytes[end] <= UInt8(ascii: "9") { end += 1 }
                if end > index + 1, end + 2 < bytes.count, bytes[end] == UInt8(ascii: "}"), bytes[end + 1] == 13,
                    bytes[end + 2] == 10, let size = Int(String(decoding: bytes[(index + 1)..<end], as: UTF8.self))
                {
                    let start = end + 3
                    if seen == literal { return min(bytes.count, start + size / 2) }
                    seen += 1
                    index = start + size
                    continue
                }
            }
            index += 1
        }
        return bytes.count / 2
    }
}
