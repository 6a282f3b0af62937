import Foundation

/// A Codable row type of one table, read and written through `SQLSession`: a property per column, enums as their raw
/// values, nested values (arrays, structs) as JSON text, as GRDB stores them.
public protocol SQLRecord: Codable, Sendable {
    static var tableName: String { get }
}

extension SQLRecord {
    /// The record a row holds.
    public init(row: SQLRow) throws { try self.init(from: SQLRowDecoder(row: row)) }

    /// The record's columns and values, in declaration order.
    public func columnValues() throws -> [(column: String, value: SQLValue)] {
        let encoder = SQLRowEncoder()
        try encode(to: encoder)
        return encoder.storage.pairs
    }

    public static func fetchAll(_ db: any SQLSession, sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try db.fetchAll(sql: sql, arguments: arguments).map(Self.init(row:))
    }

    public static func fetchOne(_ db: any SQLSession, sql: String, arguments: SQLArguments = []) throws -> Self? {
        try db.fetchOne(sql: sql, arguments: arguments).map(Self.init(row:))
    }

    /// The row whose `id` is `id`.
    public static func fetchOne(_ db: any SQLSession, id: Int64) throws -> Self? {
        try fetchOne(db, sql: "SELECT * FROM \(tableName) WHERE id = ?", arguments: [id])
    }

    /// Inserts the record, its `id` column (when it has one) left to the database when nil.
    public func insertRow(_ db: any SQLSession) throws {
        let statement = try insertStatement()
        try db.execute(sql: statement.sql, arguments: statement.arguments)
    }

    func insertStatement() throws -> (sql: String, arguments: SQLArguments) {
        let pairs = try columnValues().filter { !($0.column == "id" && $0.value == .null) }
        return (
            "INSERT INTO \(Self.tableName) (\(pairs.map(\.column).joined(separator: ", "))) VALUES ("
                + sqlPlaceholders(pairs.count) + ")",
            SQLArguments(pairs.map(\.value))
        )
    }

    /// Writes every column of the row whose `id` is the record's; answers whether there was such a row.
    @discardableResult public func update(_ db: any SQLSession) throws -> Bool {
        let pairs = try columnValues()
        guard let id = pairs.first(where: { $0.column == "id" })?.value, id != .null else {
            throw DeskError(.storage, "cannot update a \(Self.tableName) row without its id")
        }
        let columns = pairs.filter { $0.column != "id" }
        return try db.execute(
            sql:
                "UPDATE \(Self.tableName) SET \(columns.map { "\($0.column) = ?" }.joined(separator: ", ")) WHERE id = ?",
            arguments: SQLArguments(columns.map(\.value) + [id])) > 0
    }

    /// Inserts the record, or writes its columns over the row it conflicts with on `key`.
    public func upsert(_ db: any SQLSession, conflictingOn key: String = "id") throws {
        let pairs = try columnValues()
        let updates = pairs.filter { $0.column != key }.map { "\($0.column) = excluded.\($0.column)" }
        try db.execute(
            sql: "INSERT INTO \(Self.tableName) (\(pairs.map(\.column).joined(separator: ", "))) VALUES ("
                + Array(repeating: "?", count: pairs.count).joined(separator: ", ")
                + ") ON CONFLICT (\(key)) DO UPDATE SET \(updates.joined(separator: ", "))",
            arguments: SQLArguments(pairs.map(\.value)))
    }
}

/// How nested values are kept as JSON text: GRDB's settings, so that rows written through either read alike.
enum SQLJSON {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dataEncodingStrategy = .base64
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = .sortedKeys
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dataDecodingStrategy = .base64
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }
}

// MARK: - Decoding

private struct SQLRowDecoder: Decoder {
    let row: SQLRow
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(RowContainer(row: row))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch(
            [Any].self, .init(codingPath: [], debugDescription: "a row decodes into a keyed record"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw DecodingError.typeMismatch(
            Any.self, .init(codingPath: [], debugDescription: "a row decodes into a keyed record"))
    }

    struct RowContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let row: SQLRow
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { row.columns.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { row.value(named: key.stringValue) != nil }

        func decodeNil(forKey key: Key) throws -> Bool { (row.value(named: key.stringValue) ?? .null) == .null }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decodeValue(type, forKey: key) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeValue(type, forKey: key) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeValue(type, forKey: key) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decodeValue(type, forKey: key) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeValue(type, forKey: key) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decodeValue(type, forKey: key) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decodeValue(type, forKey: key) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decodeValue(type, forKey: key) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decodeValue(type, forKey: key) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decodeValue(type, forKey: key) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decodeValue(type, forKey: key) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decodeValue(type, forKey: key) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decodeValue(type, forKey: key) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decodeValue(type, forKey: key) }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decodeValue(type, forKey: key) }

        private func decodeValue<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            let value = row.value(named: key.stringValue) ?? .null
            if let decodable = T.self as? any SQLDecodable.Type {
                do {
                    // The cast cannot fail: `decodable` is `T`.
                    guard let decoded = try decodable.init(sqlValue: value) as? T else {
                        throw SQLDecodingError(description: "")
                    }
                    return decoded
                } catch let error as SQLDecodingError {
                    throw DecodingError.dataCorrupted(
                        .init(codingPath: [key], debugDescription: "column \(key.stringValue): \(error.description)"))
                }
            }
            // A nested value: JSON text.
            guard case .text(let json) = value else {
                throw DecodingError.typeMismatch(
                    T.self,
                    .init(codingPath: [key], debugDescription: "column \(key.stringValue) holds \(value), not JSON"))
            }
            return try SQLJSON.decoder().decode(T.self, from: Data(json.utf8))
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            throw DecodingError.typeMismatch(
                [String: Any].self, .init(codingPath: [key], debugDescription: "a column holds one value"))
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw DecodingError.typeMismatch(
                [Any].self, .init(codingPath: [key], debugDescription: "a column holds one value"))
        }

        func superDecoder() throws -> any Decoder { SQLRowDecoder(row: row) }
        func superDecoder(forKey key: Key) throws -> any Decoder { SQLRowDecoder(row: row) }
    }
}

// MARK: - Encoding

private final class SQLRowEncoder: Encoder {
    final class Storage {
        var pairs: [(column: String, value: SQLValue)] = []
    }

    let storage = Storage()
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(RowContainer(storage: storage))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        preconditionFailure("a record encodes as a keyed container")
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        preconditionFailure("a record encodes as a keyed container")
    }

    struct RowContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let storage: Storage
        var codingPath: [any CodingKey] { [] }

        func set(_ value: SQLValue, _ key: Key) {
            if let index = storage.pairs.firstIndex(where: { $0.column == key.stringValue }) {
                storage.pairs[index].value = value
            } else {
                storage.pairs.append((key.stringValue, value))
            }
        }

        mutating func encodeNil(forKey key: Key) throws { set(.null, key) }

        mutating func encode(_ value: Bool, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: String, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: Double, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: Float, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: Int, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { try encodeValue(value, forKey: key) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { try encodeValue(value, forKey: key) }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try encodeValue(value, forKey: key) }

        private func encodeValue<T: Encodable>(_ value: T, forKey key: Key) throws {
            if let bindable = value as? any SQLBindable {
                set(bindable.sqlValue, key)
            } else {
                let json = try SQLJSON.encoder().encode(value)
                set(.text(String(decoding: json, as: UTF8.self)), key)
            }
        }

        // Optional properties are encoded with `encodeIfPresent`: nil must still write NULL over an old value.
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
            try encodeIfPresent(value, key)
        }
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws {
            try encodeIfPresent(value as Bool?, key)
        }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws {
            try encodeIfPresent(value as String?, key)
        }
        mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws {
            try encodeIfPresent(value as Double?, key)
        }
        mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws {
            try encodeIfPresent(value as Float?, key)
        }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try encodeIfPresent(value as Int?, key) }
        mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws {
            try encodeIfPresent(value as Int8?, key)
        }
        mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws {
            try encodeIfPresent(value as Int16?, key)
        }
        mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws {
            try encodeIfPresent(value as Int32?, key)
        }
        mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws {
            try encodeIfPresent(value as Int64?, key)
        }
        mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws {
            try encodeIfPresent(value as UInt?, key)
        }
        mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws {
            try encodeIfPresent(value as UInt8?, key)
        }
        mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws {
            try encodeIfPresent(value as UInt16?, key)
        }
        mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws {
            try encodeIfPresent(value as UInt32?, key)
        }
        mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws {
            try encodeIfPresent(value as UInt64?, key)
        }

        private func encodeIfPresent<T: Encodable>(_ value: T?, _ key: Key) throws {
            if let value { try encodeValue(value, forKey: key) } else { set(.null, key) }
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
            -> KeyedEncodingContainer<NestedKey>
        {
            preconditionFailure("a column holds one value")
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            preconditionFailure("a column holds one value")
        }

        mutating func superEncoder() -> any Encoder { SQLRowEncoder() }
        mutating func superEncoder(forKey key: Key) -> any Encoder { SQLRowEncoder() }
    }
}

/// A record whose `id` the database gives on insert.
public protocol SQLIdentifiedRecord: SQLRecord {
    var id: Int64? { get set }
}

extension SQLIdentifiedRecord {
    /// Inserts the record and sets its `id` to the new row's.
    public mutating func insert(_ db: any SQLSession) throws {
        let statement = try insertStatement()
        id = try db.insertReturningId(sql: statement.sql, arguments: statement.arguments)
    }
}
