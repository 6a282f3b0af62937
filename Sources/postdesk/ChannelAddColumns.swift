import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

/// The columns of `channel import`: the project and the options of `channel add` by their long names, read from
/// `channel add` itself. A row becomes that command's arguments and is parsed and validated by it, so a column
/// means exactly what the option means, and an option added to `channel add` is a column at once.
struct ChannelAddColumns {
    /// How a column becomes arguments.
    enum Kind {
        /// The project: `channel add`'s one positional argument.
        case positional
        /// `--name=value`, or once per value when `repeating`.
        case option(repeating: Bool)
        /// `--name` when the cell is true (true, yes, 1), nothing when false (false, no, 0).
        case flag
    }

    /// One column, named after its option.
    struct Column {
        var name: String
        var kind: Kind
        var required: Bool
    }

    /// Why a row is not a valid `channel add`.
    struct RowError: Error {
        var line: Int
        var column: String?
        var message: String

        var description: String {
            "line \(line)" + (column.map { ", column \($0)" } ?? "") + ": " + message
        }
    }

    let columns: [Column]

    /// The columns, from `channel add`'s own description of its arguments (what `--experimental-dump-help`
    /// prints), without the admin options every command takes (`--socket`, `--json`), the OAuth sign-in and `--help`.
    static func load() throws -> ChannelAddColumns {
        // An OAuth 2.0 sign-in is interactive (a code, or a browser), one mailbox at a time: not a column.
        let adminNames = Set(
            try (arguments(of: AdminOptions.self) + arguments(of: OAuthSignInOptions.self)).flatMap { $0.longNames })
        var columns: [Column] = []
        for argument in try arguments(of: ChannelCommand.Add.self) {
            let kind: Kind
            let name: String
            switch argument.kind {
            case "positional":
                guard let valueName = argument.valueName else { continue }
                (kind, name) = (.positional, valueName)
            case "option", "flag":
                guard let long = argument.longNames.first, !adminNames.contains(long), long != "help" else { continue }
                (kind, name) = (argument.kind == "flag" ? .flag : .option(repeating: argument.isRepeating), long)
            default:
                continue
            }
            columns.append(Column(name: name, kind: kind, required: !argument.isOptional))
        }
        return ChannelAddColumns(columns: columns)
    }

    /// What the file reader checks: the names, and the columns every row fills.
    var spec: ChannelImportFile.Columns {
        ChannelImportFile.Columns(
            allowed: columns.map(\.name), required: Set(columns.filter(\.required).map(\.name)))
    }

    /// The `channel add` command one row stands for, parsed and validated as if typed.
    func command(for row: ChannelImportFile.Row) throws(RowError) -> ChannelCommand.Add {
        var arguments: [String] = []
        var positional: [String] = []
        for column in columns {
            guard let cell = row.cells[column.name] else { continue }
            func wrong(_ message: String) -> RowError {
                RowError(line: row.line, column: column.name, message: message)
            }
            switch (column.kind, cell) {
            case (.positional, .text(let value)):
                positional.append(value)
            case (.option(repeating: false), .text(let value)):
                arguments.append("--\(column.name)=\(value)")
            case (.option(repeating: true), .text(let value)):
                // A CSV cell lists the values separated by spaces, commas or semicolons.
                arguments += value.split(whereSeparator: { $0.isWhitespace || $0 == "," || $0 == ";" })
                    .map { "--\(column.name)=\($0)" }
            case (.option(repeating: true), .list(let values)):
                arguments += values.map { "--\(column.name)=\($0)" }
            case (.flag, .flag(let on)):
                if on { arguments.append("--\(column.name)") }
            case (.flag, .text(let value)):
                switch value.lowercased() {
                case "true", "yes", "1": arguments.append("--\(column.name)")
                case "false", "no", "0": break
                default: throw wrong("\"\(value)\" is neither true nor false")
                }
            case (.positional, _), (.option(repeating: false), _):
                throw wrong("takes one value, not a list or true/false")
            case (.option(repeating: true), .flag):
                throw wrong("takes values, not true/false")
            case (.flag, .list):
                throw wrong("takes true or false")
            }
        }
        do {
            // After "--" a project that starts with "-" is still the project.
            return try ChannelCommand.Add.parse(arguments + ["--"] + positional)
        } catch {
            let message = ChannelCommand.Add.message(for: error)
            throw RowError(line: row.line, column: column(namedIn: message), message: message)
        }
    }

    /// The one column an error message names (`--port`, `<project>`), or nil when it names none or several.
    private func column(namedIn message: String) -> String? {
        let named = columns.filter { column in
            let mark =
                switch column.kind {
                case .positional: "<\(column.name)>"
                case .option, .flag: "--\(column.name)"
                }
            var rest = message[...]
            while let range = rest.range(of: mark) {
                // "--ca-file" must not count as "--ca".
                let next = rest[range.upperBound...].first
                if next.map({ !$0.isLetter && !$0.isNumber && $0 != "-" }) ?? true { return true }
                rest = rest[range.upperBound...]
            }
            return false
        }
        return named.count == 1 ? named[0].name : nil
    }

    /// The part of ArgumentParser's `_dumpHelp()` (ToolInfoV0) read here.
    private struct DumpedArgument: Decodable {
        struct Name: Decodable {
            var kind: String
            var name: String
        }
        var kind: String
        var names: [Name]?
        var valueName: String?
        var isOptional: Bool
        var isRepeating: Bool

        var longNames: [String] { (names ?? []).filter { $0.kind == "long" }.map(\.name) }
    }

    private struct Dump: Decodable {
        struct Command: Decodable { var arguments: [DumpedArgument]? }
        var command: Command
    }

    private static func arguments(of type: any ParsableArguments.Type) throws -> [DumpedArgument] {
        try JSONDecoder().decode(Dump.self, from: Data(type._dumpHelp().utf8)).command.arguments ?? []
    }
}
