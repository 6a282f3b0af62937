import Foundation

/// A list of mailboxes to link, read from a CSV file with a header row (RFC 4180) or from JSON lines (one object
/// per line): one row per mailbox, each cell under its column's name. Reading checks the structure only (quotes,
/// columns, required cells); what a value means is for the options the columns name.
public struct ChannelImportFile: Sendable, Equatable {
    /// How the file is written.
    public enum Format: String, Sendable, Equatable, CaseIterable {
        case csv = "CSV"
        case jsonLines = "JSON lines"
    }

    /// One cell: CSV cells are always text; JSON lines also carry booleans and lists.
    public enum Cell: Sendable, Equatable {
        case text(String)
        case flag(Bool)
        case list([String])
    }

    /// One mailbox: the file line it starts on (1-based) and its non-empty cells by column name.
    public struct Row: Sendable, Equatable {
        public var line: Int
        public var cells: [String: Cell]

        public init(line: Int, cells: [String: Cell]) {
            self.line = line
            self.cells = cells
        }
    }

    public var format: Format
    public var rows: [Row]

    /// Which columns a file may have.
    public struct Columns: Sendable {
        /// Every column a file may have, in the order error messages list them.
        public var allowed: [String]
        /// The columns every row must fill.
        public var required: Set<String>

        public init(allowed: [String], required: Set<String>) {
            self.allowed = allowed
            self.required = required
        }
    }

    /// The format a file is in: by its extension (`.csv`; `.jsonl`, `.ndjson`, `.json`), else by its first
    /// character (`{` starts JSON lines). Returns the format and whether the extension decided it.
    public static func detectFormat(path: String, content: some Collection<UInt8>) -> (Format, byExtension: Bool) {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "csv": return (.csv, true)
        case "jsonl", "ndjson", "json": return (.jsonLines, true)
        default:
            var bytes = content[...]
            if bytes.starts(with: utf8BOM) { bytes = bytes.dropFirst(utf8BOM.count) }
            let first = bytes.first { !isWhitespace($0) && $0 != cr && $0 != lf }
            return (first == UInt8(ascii: "{") ? .jsonLines : .csv, false)
        }
    }

    /// Reads a whole file. Linear in its size; malformed input is an error naming the line, never a crash.
    public static func read(_ content: [UInt8], format: Format, columns: Columns) throws(ChannelImportFileError)
        -> ChannelImportFile
    {
        var bytes = content[...]
        if bytes.starts(with: utf8BOM) { bytes = bytes.dropFirst(utf8BOM.count) }
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            throw ChannelImportFileError(line: 1, message: "the file is UTF-16; save it as UTF-8")
        }
        let rows =
            switch format {
            case .csv: try readCSV(bytes, columns: columns)
            case .jsonLines: try readJSONLines(bytes, columns: columns)
            }
        return ChannelImportFile(format: format, rows: rows)
    }

    // MARK: CSV

    // RFC 4180 §2:
    // file        = [header CRLF] record *(CRLF record) [CRLF]
    // field       = (escaped / non-escaped)
    // escaped     = DQUOTE *(TEXTDATA / COMMA / CR / LF / 2DQUOTE) DQUOTE
    // non-escaped = *TEXTDATA
    // Beyond the RFC, as spreadsheets write it: LF alone ends a record too, blank lines are skipped, and spaces
    // around a field are dropped (inside quotes they are kept).
    private static func readCSV(_ bytes: ArraySlice<UInt8>, columns: Columns) throws(ChannelImportFileError) -> [Row] {
        var scanner = CSVScanner(bytes: bytes)
        var header: [String]?
        var rows: [Row] = []
        while let record = try scanner.nextRecord() {
            if record.fields.count == 1, record.fields[0].isEmpty, !record.quoted { continue }
            guard let names = header else {
                header = try checkHeader(record, columns: columns)
                continue
            }
            guard record.fields.count == names.count else {
                throw ChannelImportFileError(
                    line: record.line,
                    message: "the row has \(record.fields.count) fields but the header has \(names.count)")
            }
            var cells: [String: Cell] = [:]
            for (name, value) in zip(names, record.fields) where !value.isEmpty {
                cells[name] = .text(value)
            }
            rows.append(try checkRequired(Row(line: record.line, cells: cells), columns: columns))
        }
        guard header != nil else { throw ChannelImportFileError(line: nil, message: "the file is empty") }
        return rows
    }

    private static func checkHeader(_ record: CSVScanner.Record, columns: Columns) throws(ChannelImportFileError)
        -> [String]
    {
        var names: [String] = []
        for (index, field) in record.fields.enumerated() {
            let name = field.lowercased()
            guard !name.isEmpty else {
                throw ChannelImportFileError(
                    line: record.line, message: "column \(index + 1) of the header has no name")
            }
            guard !names.contains(name) else {
                throw ChannelImportFileError(line: record.line, column: name, message: "the header names it twice")
            }
            try checkKnown(name, line: record.line, columns: columns)
            names.append(name)
        }
        for name in columns.allowed where columns.required.contains(name) && !names.contains(name) {
            throw ChannelImportFileError(
                line: record.line, message: "the header has no \(name) column, which every row needs")
        }
        return names
    }

    private static func checkKnown(_ name: String, line: Int, columns: Columns) throws(ChannelImportFileError) {
        guard columns.allowed.contains(name) else {
            throw ChannelImportFileError(
                line: line,
                message:
                    "unknown column \"\(name)\"; the columns are \(columns.allowed.joined(separator: ", "))")
        }
    }

    private static func checkRequired(_ row: Row, columns: Columns) throws(ChannelImportFileError) -> Row {
        for name in columns.allowed where columns.required.contains(name) && row.cells[name] == nil {
            throw ChannelImportFileError(line: row.line, column: name, message: "empty, but every row needs it")
        }
        return row
    }

    // MARK: JSON lines

    // JSON Lines (https://jsonlines.org): one JSON object (RFC 8259 §4) per line, UTF-8, LF or CRLF.
    private static func readJSONLines(_ bytes: ArraySlice<UInt8>, columns: Columns) throws(ChannelImportFileError)
        -> [Row]
    {
        var rows: [Row] = []
        let decoder = JSONDecoder()
        for (index, line) in bytes.split(separator: lf, omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            var text = line
            if text.last == cr { text = text.dropLast() }
            guard text.contains(where: { !isWhitespace($0) }) else { continue }
            let object: [String: JSONCell]
            do {
                object = try decoder.decode([String: JSONCell].self, from: Data(text))
            } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
                throw ChannelImportFileError(
                    line: number, column: context.codingPath.last?.stringValue.lowercased(),
                    message: context.debugDescription)
            } catch let DecodingError.typeMismatch(_, context) where !context.codingPath.isEmpty {
                throw ChannelImportFileError(
                    line: number, column: context.codingPath.last?.stringValue.lowercased(),
                    message: "a value must be a string, a number, true or false, or a list of strings")
            } catch {
                throw ChannelImportFileError(line: number, message: "not a JSON object")
            }
            var cells: [String: Cell] = [:]
            for (key, value) in object {
                let name = key.lowercased()
                try checkKnown(name, line: number, columns: columns)
                guard cells[name] == nil else {
                    throw ChannelImportFileError(line: number, column: name, message: "given twice")
                }
                if let cell = value.cell { cells[name] = cell }
            }
            rows.append(try checkRequired(Row(line: number, cells: cells), columns: columns))
        }
        return rows
    }

    /// A JSON value a cell can hold; null and "" are no value.
    private struct JSONCell: Decodable {
        var cell: Cell?

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                cell = nil
            } else if let flag = try? container.decode(Bool.self) {
                cell = .flag(flag)
            } else if let number = try? container.decode(Int.self) {
                cell = .text(String(number))
            } else if let text = try? container.decode(String.self) {
                cell = text.isEmpty ? nil : .text(text)
            } else {
                let list = try container.decode([String].self)
                cell = list.isEmpty ? nil : .list(list)
            }
        }
    }

    static let utf8BOM: [UInt8] = [0xEF, 0xBB, 0xBF]
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
}

/// Why a file could not be read: the line (1-based) and column it happened in, when known.
public struct ChannelImportFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int?
    public var column: String?
    public var message: String

    public init(line: Int?, column: String? = nil, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var place: [String] = []
        if let line { place.append("line \(line)") }
        if let column { place.append("column \(column)") }
        return place.isEmpty ? message : place.joined(separator: ", ") + ": " + message
    }
}

/// Splits CSV bytes into records, one pass, each byte looked at once.
private struct CSVScanner {
    struct Record {
        /// The line the record starts on.
        var line: Int
        var fields: [String]
        /// Whether any field was quoted (a quoted empty field is not a blank line).
        var quoted: Bool
    }

    let bytes: ArraySlice<UInt8>
    var index: ArraySlice<UInt8>.Index
    var line = 1

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    private static let quote = UInt8(ascii: "\"")
    private static let comma = UInt8(ascii: ",")

    /// The next record, or nil at the end of the input.
    mutating func nextRecord() throws(ChannelImportFileError) -> Record? {
        guard index < bytes.endIndex else { return nil }
        var record = Record(line: line, fields: [], quoted: false)
        while true {
            let (field, quoted) = try nextField(record: record)
            record.fields.append(field)
            record.quoted = record.quoted || quoted
            guard index < bytes.endIndex else { return record }
            let byte = bytes[index]
            index += 1
            if byte == Self.comma { continue }
            // CR LF, or LF alone, or CR alone ends the record.
            if byte == ChannelImportFile.cr, index < bytes.endIndex, bytes[index] == ChannelImportFile.lf { index += 1 }
            line += 1
            return record
        }
    }

    /// One field, leaving `index` on the comma or line break after it (or the end).
    private mutating func nextField(record: Record) throws(ChannelImportFileError) -> (String, Bool) {
        let column = record.fields.count + 1
        while index < bytes.endIndex, ChannelImportFile.isWhitespace(bytes[index]) { index += 1 }
        if index < bytes.endIndex, bytes[index] == Self.quote {
            let opened = line
            index += 1
            var value: [UInt8] = []
            while true {
                guard index < bytes.endIndex else {
                    throw ChannelImportFileError(
                        line: opened, message: "the quote that opens field \(column) is never closed")
                }
                let byte = bytes[index]
                index += 1
                if byte == Self.quote {
                    // 2DQUOTE is one quote inside the field.
                    guard index < bytes.endIndex, bytes[index] == Self.quote else { break }
                    index += 1
                } else if byte == ChannelImportFile.lf
                    || (byte == ChannelImportFile.cr
                        && (index == bytes.endIndex || bytes[index] != ChannelImportFile.lf))
                {
                    line += 1
                }
                value.append(byte)
            }
            while index < bytes.endIndex, ChannelImportFile.isWhitespace(bytes[index]) { index += 1 }
            if index < bytes.endIndex, ![Self.comma, ChannelImportFile.cr, ChannelImportFile.lf].contains(bytes[index])
            {
                throw ChannelImportFileError(
                    line: line, message: "text after the closing quote of field \(column); double a quote inside one")
            }
            return (try text(value[...], column: column), true)
        }
        let start = index
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == Self.comma || byte == ChannelImportFile.cr || byte == ChannelImportFile.lf { break }
            if byte == Self.quote {
                throw ChannelImportFileError(
                    line: line,
                    message: "a quote inside field \(column), which is not quoted; quote the field and double the quote"
                )
            }
            index += 1
        }
        var end = index
        while end > start, ChannelImportFile.isWhitespace(bytes[end - 1]) { end -= 1 }
        return (try text(bytes[start..<end], column: column), false)
    }

    private func text(_ value: ArraySlice<UInt8>, column: Int) throws(ChannelImportFileError) -> String {
        guard let text = String(bytes: value, encoding: .utf8) else {
            throw ChannelImportFileError(line: line, message: "field \(column) is not UTF-8")
        }
        return text
    }
}
