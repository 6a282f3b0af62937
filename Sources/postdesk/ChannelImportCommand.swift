import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

#if canImport(Glibc)
    import Glibc
#endif

struct ChannelImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Link many mailboxes from a CSV or JSON-lines file; safe to run again.",
        discussion: """
            One mailbox per row: a project column plus the long option names of `channel add` as columns \
            (address, protocol, host, port, tls, username, password-file, request-type, …). CSV has a header row; \
            JSON lines have one object per line. Each row is checked as `channel add` checks it, and the whole file \
            before anything is linked. Then the mailboxes are tested and linked, --concurrency at a time. A row \
            linked before with the same settings is "already linked" and keeps its watermark; one linked with other \
            settings fails as a conflict and is left as it is. Paths (password-file, ca-file, oauth2-token-file) are \
            read from the current directory, as `channel add` reads them.

            Example (mailboxes.csv):
              project,address,protocol,host,port,tls,username,password-file,request-type
              SD,help@desk.test,imap,127.0.0.1,10143,none,help@desk.test,pw.txt,Get help

              postdesk channel import mailboxes.csv --concurrency 32
            """)
    @OptionGroup var options: AdminOptions
    @Argument(help: "The file: CSV with a header row (.csv), or JSON lines (.jsonl); else told by its content.")
    var file: String
    @Option(help: "How many mailboxes are tested and linked at once (1–256).") var concurrency = 16
    @Flag(help: "No progress on standard error.") var quiet = false

    func validate() throws {
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be 1–256") }
    }

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            printError("cannot read \(file)")
            throw ExitCode.failure
        }
        let content = [UInt8](data)
        let (format, byExtension) = ChannelImportFile.detectFormat(path: file, content: content)
        let columns: ChannelAddColumns
        let table: ChannelImportFile
        do {
            columns = try ChannelAddColumns.load()
            table = try ChannelImportFile.read(content, format: format, columns: columns.spec)
        } catch let error as ChannelImportFileError {
            printError("\(file) (read as \(format.rawValue)): \(error)")
            throw ExitCode.failure
        }
        note("\(file): \(format.rawValue) (by its \(byExtension ? "extension" : "content")), \(table.rows.count) rows")
        let rows = try Self.rows(of: table, columns: columns, file: file)
        var progress = ImportProgress(total: rows.count, style: quiet ? .none : ImportProgress.Style.forStandardError)
        var results: [Int: ChannelImportResult] = [:]
        let body = ChannelImportBody(concurrency: concurrency, rows: rows)
        try await admin {
            try await options.client.lines(.POST, "/v1/channels/import", body: body) { line in
                let result = try AdminClient.decode(ChannelImportResult.self, from: line)
                results[result.line] = result
                progress.record(result.result)
            }
        }
        progress.finish()
        // A row the server did not answer (it stopped mid-way) failed; running the import again links it.
        for row in rows where results[row.line] == nil {
            results[row.line] = ChannelImportResult(
                line: row.line, project: row.project.uppercased(), address: row.channel.address, result: .failed,
                reason: "the server did not answer for this row; run the import again")
        }
        let ordered = results.values.sorted { $0.line < $1.line }
        report(ordered, format: format)
        if ordered.contains(where: { $0.result == .failed }) { throw ExitCode.failure }
    }

    /// Every row as `channel add` would send it; all rows that are not are printed, and nothing is sent.
    static func rows(of table: ChannelImportFile, columns: ChannelAddColumns, file: String) throws
        -> [ChannelImportRow]
    {
        var rows: [ChannelImportRow] = []
        var errors: [ChannelAddColumns.RowError] = []
        for row in table.rows {
            do throws(ChannelAddColumns.RowError) {
                let add = try columns.command(for: row)
                let body = try add.body { () throws(ChannelAddColumns.RowError) -> String in
                    try password(of: add, line: row.line)
                }
                rows.append(ChannelImportRow(line: row.line, project: add.project, channel: body))
            } catch {
                errors.append(error)
            }
        }
        guard errors.isEmpty else {
            printError(
                "\(errors.count) of \(table.rows.count) rows of \(file) are not valid, so nothing was linked:\n"
                    + errors.prefix(50).map(\.description).joined(separator: "\n")
                    + (errors.count > 50 ? "\n… and \(errors.count - 50) more" : ""))
            throw ExitCode.failure
        }
        return rows
    }

    /// The password a row's password-file holds, read as `channel add --password-file` reads it; stdin cannot
    /// serve many rows.
    static func password(of add: ChannelCommand.Add, line: Int) throws(ChannelAddColumns.RowError) -> String {
        guard let passwordFile = add.passwordFile else {
            throw ChannelAddColumns.RowError(
                line: line, column: "password-file",
                message:
                    "empty: an import reads each password from its password-file (or uses oauth2-token-file or oauth2-token-command)"
            )
        }
        do {
            return try readSecretFile(passwordFile, what: "mailbox password")
        } catch {
            throw ChannelAddColumns.RowError(line: line, column: "password-file", message: error.message)
        }
    }

    /// Each row's result, then the summary: JSON lines with --json, a table otherwise.
    func report(_ results: [ChannelImportResult], format: ChannelImportFile.Format) {
        let counts = Dictionary(grouping: results, by: \.result).mapValues(\.count)
        let summary =
            "\(results.count) rows: \(counts[.linked] ?? 0) linked, \(counts[.alreadyLinked] ?? 0) already linked, "
            + "\(counts[.failed] ?? 0) failed"
        if options.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for result in results {
                if let line = try? encoder.encode(result) { FileHandle.standardOutput.write(line + Data("\n".utf8)) }
            }
            note(summary)
            return
        }
        print(
            table(
                ["LINE", "PROJECT", "ADDRESS", "RESULT"],
                results.map { result in
                    let text: String =
                        switch result.result {
                        case .linked: "linked"
                        case .alreadyLinked: "already linked, unchanged"
                        case .failed: (result.conflict ? "conflict: " : "failed: ") + (result.reason ?? "")
                        }
                    return ["\(result.line)", result.project, result.address, text]
                }))
        for result in results {
            for warning in result.warnings { print("line \(result.line) (\(result.address)): Warning: \(warning)") }
        }
        print(summary)
    }

    /// A line for the person at the terminal, on standard error so that standard output stays the report.
    func note(_ text: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// How far an import is, on standard error: a bar redrawn in place on a terminal, a plain line at most once a
/// second otherwise, or nothing.
struct ImportProgress {
    enum Style {
        case bar, lines, none

        static var forStandardError: Style { isatty(STDERR_FILENO) != 0 ? .bar : .lines }
    }

    let total: Int
    let style: Style
    private var counts: [ChannelImportOutcome: Int] = [:]
    private var done = 0
    private var drawn: ContinuousClock.Instant?

    init(total: Int, style: Style) {
        self.total = total
        self.style = style
    }

    mutating func record(_ outcome: ChannelImportOutcome) {
        counts[outcome, default: 0] += 1
        done += 1
        let now = ContinuousClock.now
        let interval: Duration = style == .bar ? .milliseconds(50) : .seconds(1)
        if done == total || drawn.map({ now - $0 >= interval }) ?? true {
            drawn = now
            draw()
        }
    }

    /// Ends the bar's line.
    func finish() {
        if style == .bar, done > 0 { write("\n") }
    }

    private func draw() {
        let tally =
            "\(done)/\(total)  linked \(counts[.linked] ?? 0), already \(counts[.alreadyLinked] ?? 0), "
            + "failed \(counts[.failed] ?? 0)"
        switch style {
        case .bar:
            let width = 30
            let filled = total == 0 ? width : done * width / total
            // CR returns to the line's start; ESC [K clears what a longer line left (ECMA-48 §8.3.41).
            write(
                "\r[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
                    + tally + "\u{1B}[K")
        case .lines:
            write("import: " + tally + "\n")
        case .none:
            break
        }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
