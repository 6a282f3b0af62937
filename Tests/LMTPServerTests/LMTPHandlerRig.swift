import NIOCore
import NIOEmbedded

@testable import LMTPServer

/// Counts the reads that reach the head of the pipeline, to see when the handler holds input back.
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    var reads = 0

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }
}

/// Passes the handler's requests on only at a read-complete, as NIOAsyncChannel's inbound handler does: a request
/// fired without one would never reach the owner of a real connection.
final class ReadCompleteGate: ChannelInboundHandler {
    typealias InboundIn = LMTPServerRequest
    private var buffered: [LMTPServerRequest] = []
    var delivered: [LMTPServerRequest] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        buffered.append(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delivered += buffered
        buffered = []
    }
}

/// Drives an `LMTPServerHandler` in an `EmbeddedChannel` as an MTA would, and answers its requests as an owner that
/// takes the addresses in `accepted` and answers each delivery with `result` for every recipient.
final class LMTPHandlerRig {
    let channel = EmbeddedChannel()
    let reads = ReadCounter()
    let gate = ReadCompleteGate()
    var accepted: Set<String>
    var result: LMTPDeliveryResult
    /// Answer requests at once (false: leave them outstanding, as a slow store would).
    var answers = true
    private(set) var asked: [String] = []
    private(set) var deliveries: [LMTPDelivery] = []
    private(set) var pending: [LMTPServerRequest] = []
    /// The greeting the server sent on connect.
    private(set) var greeting = ""

    static let limits = LMTPServerStateMachine.Limits(
        hostname: "desk.test", maximumMessageSize: 1000, maximumRecipients: 3, maximumErrors: 5)

    init(
        accepted: Set<String> = ["help@desk.test", "sales@desk.test"], result: LMTPDeliveryResult = .delivered,
        limits: LMTPServerStateMachine.Limits = LMTPHandlerRig.limits, maximumCommandLength: Int = 100
    ) throws {
        self.accepted = accepted
        self.result = result
        try channel.pipeline.syncOperations.addHandler(reads)
        try channel.pipeline.syncOperations.addHandler(
            LMTPServerHandler(limits: limits, maximumCommandLength: maximumCommandLength, idleTimeout: .minutes(5)))
        try channel.pipeline.syncOperations.addHandler(gate)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 24)).wait()
        greeting = try output()
    }

    /// The client's bytes arrive; returns what the server wrote meanwhile (CRLF shown as LF).
    func send(_ text: String) throws -> String {
        if channel.isActive { try channel.writeInbound(ByteBuffer(string: text)) }
        try answerRequests()
        return try output()
    }

    /// Feeds the client's bytes one at a time.
    func sendBytewise(_ text: String) throws -> String {
        var out = ""
        for byte in Array(text.utf8) {
            guard channel.isActive else { break }
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            try answerRequests()
            out += try output()
        }
        return out
    }

    /// Answers what is outstanding (after `answers` was false).
    func answerPending() throws -> String {
        answers = true
        for request in pending { try answer(request) }
        pending = []
        try answerRequests()
        return try output()
    }

    private func answerRequests() throws {
        while !gate.delivered.isEmpty {
            let request = gate.delivered.removeFirst()
            if answers { try answer(request) } else { pending.append(request) }
        }
    }

    private func answer(_ request: LMTPServerRequest) throws {
        switch request {
        case .recipient(let address):
            asked.append(address)
            try channel.writeOutbound(
                LMTPServerAnswer.recipient(accepted.contains(address) ? .accepted : .unknownRecipient))
        case .delivery(let delivery):
            deliveries.append(delivery)
            try channel.writeOutbound(LMTPServerAnswer.delivery(delivery.recipients.map { _ in result }))
        }
        // The answer may have let the handler read on to further requests.
        try answerRequests()
    }

    /// Everything the server wrote since the last call, CRLF shown as LF.
    func output() throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += String(buffer: buffer)
        }
        return text.replacingOccurrences(of: "\r\n", with: "\n")
    }

    /// Ends the test: true when nothing was left over (or the server had closed the connection itself).
    func finish() throws -> Bool {
        try channel.finish(acceptAlreadyClosed: true).isClean
    }
}
