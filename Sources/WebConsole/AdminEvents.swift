import EmailChannel
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceDesk
import ServiceLifecycle

/// One event of a run's stream: a step of the test as it is decided, a note while waiting, and the end.
enum RunEvent: Sendable, Equatable {
    case step(ChannelTestReport.Step)
    case note(String)
    case end(RunEnd)

    /// The event in the `text/event-stream` format (HTML Living Standard §9.2.6): a name and one `data:` line of
    /// JSON, which never holds a raw line break (JSON escapes them), so customer text cannot end the event early.
    var wire: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let (name, data): (String, Data?) =
            switch self {
            case .step(let step): ("step", try? encoder.encode(step))
            case .note(let text): ("note", try? encoder.encode(["text": text]))
            case .end(let end): ("end", try? encoder.encode(end))
            }
        return "event: \(name)\ndata: \(data.map { String(decoding: $0, as: UTF8.self) } ?? "{}")\n\n"
    }
}

/// How a run ended: its verdict and what the page shows under the steps.
struct RunEnd: Codable, Sendable, Equatable {
    var ok: Bool
    var summary: String
    var serverText: String?
    var diagnosis: String?
    var fix: String?
    var advice: [String] = []
    /// The test request a verification became.
    var request: String?

    init(
        ok: Bool, summary: String, serverText: String? = nil, diagnosis: String? = nil, fix: String? = nil,
        advice: [String] = [], request: String? = nil
    ) {
        self.ok = ok
        self.summary = summary
        self.serverText = serverText
        self.diagnosis = diagnosis
        self.fix = fix
        self.advice = advice
        self.request = request
    }

    init(_ report: ChannelTestReport) {
        self.init(
            ok: report.ok,
            summary: report.ok
                ? "Every step passed."
                    + (report.wouldProcess.map { " Messages that would be processed now: \($0)." } ?? "")
                : "The test failed.",
            serverText: report.serverText, diagnosis: report.diagnosis?.summary, fix: report.diagnosis?.fix,
            advice: report.advice)
    }
}

/// Runs a test or a verification inside its event stream, with the code the CLI's `channel test` and
/// `channel verify` use, and reports each step as it happens.
struct AdminRunner: Sendable {
    let store: DeskStore
    let services: ConsoleAdminServices
    let logger: Logger

    /// The stream of a run: events are written as they come; when the browser goes away the run is cancelled.
    func response(for run: ConsoleRun) -> Response {
        let runner = self
        var response = Response(
            status: .ok,
            body: ResponseBody { writer in
                // A test has a handful of steps and a verification a note every 5 s: a small bound is plenty.
                let (events, sink) = AsyncStream<RunEvent>.makeStream(bufferingPolicy: .bufferingOldest(256))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        // A verification waits up to its timeout: on SIGTERM it ends at once, saying it was cancelled.
                        await cancelWhenGracefulShutdown { await runner.execute(run) { sink.yield($0) } }
                        sink.finish()
                    }
                    // A comment first, so that proxies and the browser see the stream open at once.
                    try await writer.write(ByteBuffer(string: ": \(run.kind.rawValue) \(run.address)\n\n"))
                    for await event in events {
                        try await writer.write(ByteBuffer(string: event.wire))
                    }
                    try await group.waitForAll()
                }
                try await writer.finish(nil)
            })
        response.headers[.contentType] = "text/event-stream; charset=utf-8"
        response.headers[.cacheControl] = "no-store"
        if let buffering = HTTPField.Name("X-Accel-Buffering") { response.headers[buffering] = "no" }
        return response
    }

    /// Runs `run`, telling `emit` each event; the last is always `.end`.
    func execute(_ run: ConsoleRun, emit: @escaping @Sendable (RunEvent) -> Void) async {
        do {
            switch run.kind {
            case .test:
                let report = try await ChannelTester().test(
                    channelAddress: run.address, store: store, tokenKeeper: services.tokenKeeper,
                    supervisor: services.supervisor, logger: logger, progress: { emit(.step($0)) })
                emit(.end(RunEnd(report)))
            case .verify:
                emit(.end(try await verify(run.address, emit: emit)))
            }
        } catch where error is CancellationError || Task.isCancelled {
            // Cancelled while the store was being read, the failure is the store's wrapping of the cancellation:
            // the run was cancelled all the same.
            emit(.end(RunEnd(ok: false, summary: "The run was cancelled.")))
        } catch let error as DeskError {
            emit(.end(RunEnd(ok: false, summary: error.message)))
        } catch {
            logger.error("console run failed", metadata: ["error": "\(error)", "run.kind": "\(run.kind.rawValue)"])
            emit(.end(RunEnd(ok: false, summary: "Something went wrong; the server's log says what.")))
        }
    }

    /// `channel verify`: the test email through the relay, then waiting until it becomes a test request, with a
    /// note every 5 s of what the mailbox is doing, up to `verifyTimeout`.
    private func verify(_ address: String, emit: @escaping @Sendable (RunEvent) -> Void) async throws -> RunEnd {
        let verifier =
            services.verifier ?? ChannelVerifier(store: store, tokenKeeper: services.tokenKeeper, logger: logger)
        let isPush = try await store.runnableChannel(address: address).channel.protocol == .lmtp
        let started = try await verifier.start(
            channelAddress: address, pushDelivery: services.supervisor?.pushDelivery)
        let sendName = "Send a test email to \(started.channelAddress) through the SMTP relay"
        guard let reply = started.sendReply else {
            let reason = started.sendError ?? "unknown error"
            emit(.step(.init(name: sendName, ok: false, detail: reason)))
            return RunEnd(ok: false, summary: "The SMTP relay did not accept the test email.", diagnosis: reason)
        }
        emit(
            .step(
                .init(
                    name: sendName, ok: true,
                    detail: "the relay said: \(reply.trimmingCharacters(in: .whitespacesAndNewlines))")))
        let arriveName = isPush ? "Arrive over LMTP and become a request" : "Come back through the mailbox"
        let clock = ContinuousClock()
        let deadline = clock.now + services.verifyTimeout
        var lastNote = clock.now
        while clock.now < deadline {
            let state = try await store.verification(token: started.token)
            if let key = state.requestKey {
                emit(.step(.init(name: arriveName, ok: true, detail: "it became test request \(key)")))
                return RunEnd(ok: true, summary: "The channel works end to end.", request: key)
            }
            if clock.now - lastNote >= .seconds(5) {
                lastNote = clock.now
                emit(.note(await waiting(started.channelAddress, isPush: isPush)))
            }
            try await Task.sleep(for: services.verifyPollInterval)
        }
        let reason =
            "the relay accepted the test email but it did not come back as a request within "
            + "\(services.verifyTimeout.components.seconds) s; "
            + (await waiting(started.channelAddress, isPush: isPush))
        emit(.step(.init(name: arriveName, ok: false, detail: reason)))
        return RunEnd(ok: false, summary: "The verification timed out.", diagnosis: reason)
    }

    /// What the mailbox is doing while a verification waits (as `channel verify` says it).
    private func waiting(_ address: String, isPush: Bool) async -> String {
        if isPush { return "waiting for the MTA to deliver it over LMTP to this server's --lmtp-listen" }
        guard let status = await services.statusBoard?.all().first(where: { $0.address == address }) else {
            return "waiting for it to arrive (the mailbox is not running: is the channel enabled?)"
        }
        if status.state.isFailing {
            return "the mailbox cannot be read: \(status.detail ?? status.lastError ?? status.state.rawValue)"
        }
        return "waiting for it to arrive (mailbox \(status.state.rawValue))"
    }
}
