import EmailChannel
import Foundation
import Hummingbird
import Logging
import MailClients
import NIOCore
import ServiceDesk

/// `POST /v1/channels/import`: links many mailboxes in one call. The whole list is judged first and nothing is
/// linked when any row is wrong (400, every such row named). Then rows linked before with the same settings are
/// answered "already linked" (their watermark stays), rows linked with other settings fail as conflicts, and the
/// new mailboxes are tested and linked, `concurrency` at a time; each row's result goes out as one JSON line
/// (NDJSON) as soon as it is known. The mailboxes start once, when the import ends.
struct ChannelImportRoutes: Sendable {
    let store: DeskStore
    let linker: MailboxLinker
    let supervisor: ChannelSupervisor
    let logger: Logger

    /// 64 MiB holds some 200,000 rows.
    static let maximumBody = 64 << 20
    static let defaultConcurrency = 16
    static let concurrencyRange = 1...256

    func addRoutes(to group: RouterGroup<AdminRequestContext>) {
        group.post("import") { request, context in
            let work = try await plan(try await Self.decodeBody(request, context: context))
            return Response(
                status: .ok, headers: [.contentType: "application/x-ndjson"],
                body: ResponseBody { writer in try await run(work, writer: &writer) })
        }
    }

    /// What an accepted import does: the rows answered at once, and the mailboxes to test and link.
    struct Work: Sendable {
        var answered: [ChannelImportResult]
        var toLink: [(row: ChannelImportRow, draft: ChannelDraft)]
        var concurrency: Int
    }

    /// The list, read with a limit of its own: far more than the 1 MiB of other commands.
    static func decodeBody(_ request: Request, context: AdminRequestContext) async throws -> ChannelImportBody {
        let buffer = try await request.body.collect(upTo: maximumBody)
        return try context.requestDecoder.decode(ChannelImportBody.self, from: buffer)
    }

    /// Judges every row; throws the rejection naming each row that cannot be linked as written.
    func plan(_ body: ChannelImportBody) async throws -> Work {
        var problems: [ChannelImportProblem] = []
        var drafts: [(row: ChannelImportRow, draft: ChannelDraft)] = []
        // Each address and account a row links, with the line that links it first: one mailbox, one row.
        var firstLine: [String: Int] = [:]
        for row in body.rows {
            let draft: ChannelDraft
            do {
                draft = try row.channel.draft(projectKey: row.project)
            } catch let error as DeskError {
                problems.append(.init(line: row.line, address: row.channel.address, error: error.message))
                continue
            }
            let address = AddressNormalizer.normalize(draft.address) ?? draft.address.lowercased()
            let names =
                [(address, "the address \(address)")]
                + draft.extraAddresses.map { extra in
                    let normalized = AddressNormalizer.normalize(extra) ?? extra.lowercased()
                    return (normalized, "the address \(normalized)")
                }
                + [
                    (
                        "account " + AddressNormalizer.accountKey(host: draft.host, username: draft.username),
                        "the mailbox \(draft.username) on \(draft.host)"
                    )
                ]
            if let (line, what) = names.lazy.compactMap({ key, what in firstLine[key].map { ($0, what) } }).first {
                problems.append(
                    .init(line: row.line, address: address, error: "\(what) is linked by line \(line) already"))
                continue
            }
            for (key, _) in names where firstLine[key] == nil { firstLine[key] = row.line }
            drafts.append((row, draft))
        }
        let plans = try await store.linkPlans(drafts.map(\.draft))
        var work = Work(
            answered: [], toLink: [],
            concurrency: min(max(body.concurrency ?? Self.defaultConcurrency, 1), Self.concurrencyRange.upperBound))
        for ((row, draft), plan) in zip(drafts, plans) {
            let address = AddressNormalizer.normalize(draft.address) ?? draft.address
            let project = row.project.uppercased()
            switch plan {
            case .new:
                work.toLink.append((row, draft))
            case .alreadyLinked:
                work.answered.append(.init(line: row.line, project: project, address: address, result: .alreadyLinked))
            case .conflict(let reason):
                work.answered.append(
                    .init(
                        line: row.line, project: project, address: address, result: .failed, reason: reason,
                        conflict: true))
            case .invalid(let error):
                problems.append(.init(line: row.line, address: address, error: error.message))
            }
        }
        guard problems.isEmpty else {
            problems.sort { $0.line < $1.line }
            let shown = problems.prefix(50).map { "line \($0.line) (\($0.address)): \($0.error)" }
            let more = problems.count > shown.count ? ["… and \(problems.count - shown.count) more"] : []
            let text =
                (["\(problems.count) of \(body.rows.count) rows cannot be linked as written, so nothing was linked:"]
                + shown + more).joined(separator: "\n")
            throw AdminError(status: .badRequest, body: ChannelImportRejection(error: text, problems: problems))
        }
        return work
    }

    /// Answers the judged rows, then tests and links the new ones with a bounded number at once, writing each
    /// result as one line; the supervisor starts the new mailboxes once at the end, also when the client left.
    func run(_ work: Work, writer: inout any ResponseBodyWriter) async throws {
        let started = ContinuousClock.now
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func send(_ result: ChannelImportResult) async throws {
            var line = try encoder.encode(result)
            line.append(UInt8(ascii: "\n"))
            try await writer.write(ByteBuffer(data: line))
        }
        var linked: [Int64] = []
        var failed = 0
        do {
            for result in work.answered { try await send(result) }
            try await withThrowingTaskGroup(of: (ChannelImportResult, Int64?).self) { group in
                var waiting = work.toLink.makeIterator()
                for _ in 0..<work.concurrency {
                    guard let next = waiting.next() else { break }
                    group.addTask { await link(next.row, next.draft) }
                }
                while let (result, channelId) = try await group.next() {
                    if let next = waiting.next() { group.addTask { await link(next.row, next.draft) } }
                    if result.result == .linked {
                        linked.append(contentsOf: channelId.map { [$0] } ?? [])
                    } else {
                        failed += 1
                    }
                    try await send(result)
                }
            }
        } catch {
            // Only the linked channels are read and started, not every channel of the desk.
            if !linked.isEmpty { await supervisor.reload(channelIds: linked) }
            throw error
        }
        if !linked.isEmpty { await supervisor.reload(channelIds: linked) }
        logger.info(
            "channel import",
            metadata: [
                "import.rows": "\(work.answered.count + work.toLink.count)", "import.linked": "\(linked.count)",
                "import.failed": "\(failed)", "import.seconds": "\(ContinuousClock.now - started)",
            ])
        try await writer.finish(nil)
    }

    /// Tests one mailbox and links it, as `channel add` does; a failure is this row's result, in the server's words.
    /// Also returns the linked channel's id, for the supervisor.
    func link(_ row: ChannelImportRow, _ draft: ChannelDraft) async -> (ChannelImportResult, Int64?) {
        var result = ChannelImportResult(
            line: row.line, project: row.project.uppercased(),
            address: AddressNormalizer.normalize(draft.address) ?? draft.address, result: .failed)
        var channelId: Int64?
        do {
            let linked = try await linker.link(draft)
            result.result = .linked
            result.warnings = linked.warnings
            channelId = linked.channel.id
        } catch let error as MailClientError {
            result.reason = MailboxDiagnosis.explain(error)
        } catch let error as DeskError {
            result.reason = error.message
            result.conflict = error.code == .conflict
        } catch {
            result.reason = "\(error)"
        }
        return (result, channelId)
    }
}
