import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

#if canImport(Glibc)
    import Glibc
#endif

/// Options every admin command takes.
struct AdminOptions: ParsableArguments {
    @Option(help: "Admin socket (default: $POSTDESK_SOCKET, else ./postdesk-data/admin.sock).")
    var socket: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    var client: AdminClient {
        let environment = ProcessInfo.processInfo.environment
        return AdminClient(socketPath: socket ?? environment["POSTDESK_SOCKET"] ?? "./postdesk-data/admin.sock")
    }
}

/// Runs an admin call, printing its failure as one line and exiting non-zero.
func admin<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let failure as AdminClient.Failure {
        printError(failure.message)
        throw ExitCode.failure
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
}

/// Prints a value as JSON, as the server sent it.
func printJSON(_ data: Data) {
    FileHandle.standardOutput.write(data)
    print()
}

/// Reads a secret from a file (first line) or from standard input, never from the command line.
func readSecret(file: String?, what: String) throws -> String {
    do {
        if let file { return try readSecretFile(file, what: what) }
        let text: String
        if isatty(STDIN_FILENO) != 0 {
            guard let typed = getpass("\(what): ") else { throw ExitCode.failure }
            text = String(cString: typed)
        } else {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        return try firstLine(of: text, what: what)
    } catch let error as SecretError {
        printError(error.message)
        throw ExitCode.failure
    }
}

/// Why a secret could not be read, in words for the terminal.
struct SecretError: Error {
    var message: String
}

/// The secret in a file: its first line, which must not be empty.
func readSecretFile(_ file: String, what: String) throws(SecretError) -> String {
    guard let data = FileManager.default.contents(atPath: file) else {
        throw SecretError(message: "cannot read \(what) file \(file)")
    }
    return try firstLine(of: String(decoding: data, as: UTF8.self), what: what)
}

private func firstLine(of text: String, what: String) throws(SecretError) -> String {
    let secret =
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).first
        .map(String.init) ?? ""
    guard !secret.isEmpty else { throw SecretError(message: "the \(what) is empty") }
    return secret
}

/// A plain text table with left-aligned columns.
func table(_ header: [String], _ rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for row in rows {
        for (index, cell) in row.enumerated() where index < widths.count {
            widths[index] = max(widths[index], cell.count)
        }
    }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n")
}

extension Date {
    var shortText: String {
        ISO8601DateFormatter.string(
            from: self, timeZone: .current,
            formatOptions: [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime])
    }
}

func decodeAnswer<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
    do {
        return try AdminClient.decode(type, from: data)
    } catch {
        printError("the server's answer was not understood: \(error)")
        throw ExitCode.failure
    }
}
