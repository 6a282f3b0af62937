/// A `FakeMailScript` replayed on one connection: the ordered exchanges from the first, then the anytime ones.
final class FakeMailScriptSession: FakeMailSession {
    private let script: FakeMailScript
    private var next = 0
    private var tag = "*"
    private var continuationPending = false

    init(_ script: FakeMailScript) {
        self.script = script
    }

    func greeting() -> FakeMailReply {
        guard let greeting = script.greeting else { return FakeMailReply([], then: .silence) }
        return .lines(greeting.map { $0.replacingOccurrences(of: "{tag}", with: "*") })
    }

    func respond(to line: String) -> FakeMailReply {
        var command = line
        if script.tagged && !continuationPending {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            tag = parts.first.map(String.init) ?? "*"
            command = parts.count > 1 ? String(parts[1]) : ""
        }
        let exchange: FakeMailScript.Exchange
        if next < script.exchanges.count, FakeMailScript.matches(script.exchanges[next].match, command) {
            exchange = script.exchanges[next]
            next += 1
        } else if let anytime = script.anytime.first(where: { FakeMailScript.matches($0.match, command) }) {
            exchange = anytime
        } else {
            var reply = FakeMailReply.lines(substitute(script.unexpectedReply), then: .close)
            reply.unexpected = true
            return reply
        }
        let lines = exchange.reply
        continuationPending = lines.last?.hasPrefix("+ ") == true || lines.last == "+"
        return FakeMailReply(
            exchange.steps.map { step in
                if case .line(let text) = step { return .line(text.replacingOccurrences(of: "{tag}", with: tag)) }
                return step
            }, then: exchange.then)
    }

    private func substitute(_ lines: [String]) -> [String] {
        lines.map { $0.replacingOccurrences(of: "{tag}", with: tag) }
    }
}
