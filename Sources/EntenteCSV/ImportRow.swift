public import EntenteCore

/// One good row of an import: the record's key and the field values it sets.
///
/// The key is the CRM record id; the node stores it in the private field `crm_id` and uses it to find the
/// object an earlier import created (an upsert). `values` and `sets` never hold `crm_id`.
public struct ImportRow: Sendable, Equatable, CustomStringConvertible {
    /// The physical line where the record starts.
    public var line: Int
    /// The CRM record id (the key column's cell, trimmed).
    public var key: String
    /// The scalar fields the row sets, in mapping order.
    ///
    /// `Value.null` clears a field (`empty_cells: unset`).
    public var values: [(field: String, value: Value)]
    /// The set fields the row sets, in mapping order: the set's elements after the import (empty: clear it).
    public var sets: [(field: String, elements: [String])]

    /// Creates a row.
    public init(
        line: Int,
        key: String,
        values: [(field: String, value: Value)] = [],
        sets: [(field: String, elements: [String])] = []
    ) {
        self.line = line
        self.key = key
        self.values = values
        self.sets = sets
    }

    /// The value the row sets for `field`, if any.
    public func value(_ field: String) -> Value? {
        values.first { $0.field == field }?.value
    }

    /// The elements the row sets for set field `field`, if any.
    public func elements(_ field: String) -> [String]? {
        sets.first { $0.field == field }?.elements
    }

    /// Compares line, key, values and sets (in order).
    public static func == (lhs: ImportRow, rhs: ImportRow) -> Bool {
        lhs.line == rhs.line && lhs.key == rhs.key && lhs.values.elementsEqual(rhs.values) { $0 == $1 }
            && lhs.sets.elementsEqual(rhs.sets) { $0 == $1 }
    }

    /// `line N key: field=value, ...`.
    public var description: String {
        let parts =
            values.map { "\($0.field)=\($0.value)" }
            + sets.map { "\($0.field)={\($0.elements.joined(separator: ","))}" }
        return "line \(line) \(key): " + parts.joined(separator: ", ")
    }
}

/// A problem with one row (or one cell) of an import, reported with its line; it does not stop the import.
public struct RowError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The physical line where the record starts (the line of the problem for malformed CSV).
    public var line: Int
    /// The header name of the column at fault, or nil for the whole row.
    public var column: String?
    /// A sentence naming the value and the expected form.
    public var message: String

    /// Creates a row error.
    public init(line: Int, column: String?, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// `line 7, column "Close Date": '31/3/2027' is not a date ...`.
    public var description: String {
        guard let column else { return "line \(line): \(message)" }
        return "line \(line), column \"\(column)\": \(message)"
    }
}

/// The outcome of converting a whole file.
public struct CSVImportResult: Sendable, Equatable {
    /// The good rows, in file order.
    public var rows: [ImportRow]
    /// Every problem, in file order (a row may have several).
    public var errors: [RowError]
    /// Remarks on the file as a whole: ignored columns, mapped columns missing from the file.
    public var warnings: [String]
    /// How many records after the header were read (good and bad).
    public var recordsRead: Int

    /// Creates a result.
    public init(rows: [ImportRow], errors: [RowError], warnings: [String], recordsRead: Int) {
        self.rows = rows
        self.errors = errors
        self.warnings = warnings
        self.recordsRead = recordsRead
    }

    /// The lines of the rows with at least one error.
    public var badLines: [Int] {
        var seen = Set<Int>()
        return errors.compactMap { seen.insert($0.line).inserted ? $0.line : nil }
    }
}

/// One object to export: its CRM key and its current field values.
public struct ExportRow: Hashable, Sendable {
    /// The CRM record id (`crm_id`), written to the key column.
    public var key: String
    /// The scalar fields, by name (missing or null: an empty cell).
    public var values: [String: Value]
    /// The set fields, by name.
    public var sets: [String: [String]]

    /// Creates a row.
    public init(key: String, values: [String: Value] = [:], sets: [String: [String]] = [:]) {
        self.key = key
        self.values = values
        self.sets = sets
    }

    /// The export form of an imported row (what the node would hold after importing it into an empty store).
    public init(_ row: ImportRow) {
        self.key = row.key
        self.values = Dictionary(row.values.map { ($0.field, $0.value) }, uniquingKeysWith: { _, last in last })
        self.sets = Dictionary(row.sets.map { ($0.field, $0.elements) }, uniquingKeysWith: { _, last in last })
    }
}
