import EntenteCore
public import EntenteDomain

/// A mapping checked against its object kind, ready to convert CSV records into field values and objects
/// back into CSV.
///
/// ```swift
/// let plan = try CSVPlan(mapping: .builtin(named: "salesforce-opportunity")!)
/// let result = try plan.convert(fileAt: "opportunities.csv", resolveCompany: partners.id(named:))
/// for error in result.errors { print(error) }
/// ```
public struct CSVPlan: Sendable {
    /// The mapping applied.
    public let mapping: Mapping
    /// The object kind the mapping imports.
    public let kind: ObjectKind
    /// The columns of an export, in order: the key column, then the mapped columns as the mapping lists them
    /// (a currency column right after the first money column that uses it).
    public let exportHeader: [String]

    let columns: [ResolvedColumn]
    let numberFormat: NumberFormat
    let exportLayout: [ExportCell]

    /// Checks a mapping against the catalog kind its `object_type` names.
    /// - Throws: `CSVError` (`invalidMapping`) listing every problem of the mapping.
    public init(mapping: Mapping) throws(CSVError) {
        guard let kind = Catalog.kind(named: mapping.objectType) else {
            let known = Catalog.all.map(\.name).joined(separator: ", ")
            throw CSVError(
                .invalidMapping,
                "the mapping's object_type '\(mapping.objectType)' is not a known object type (known: \(known))"
            )
        }
        try self.init(mapping: mapping, kind: kind)
    }

    /// Checks a mapping against an object kind.
    /// - Throws: `CSVError` (`invalidMapping`) listing every problem of the mapping.
    public init(mapping: Mapping, kind: ObjectKind) throws(CSVError) {
        var problems: [String] = []
        if mapping.objectType != kind.name {
            problems.append("object_type is '\(mapping.objectType)' but the plan is for \(kind.name)")
        }
        if Lenient.trim(mapping.keyColumn).isEmpty { problems.append("key_column is empty") }
        if mapping.columns.isEmpty { problems.append("columns is empty: map at least one column to a field") }
        let emptyCells = Self.choose(
            mapping.emptyCells,
            default: EmptyCells.skip,
            key: "empty_cells",
            problems: &problems
        )
        let numberFormat = Self.choose(
            mapping.numberFormat,
            default: NumberFormat.standard,
            key: "number_format",
            problems: &problems
        )
        let dateFormat: DateFormat? = mapping.dateFormat.map {
            Self.choose($0, default: DateFormat.iso, key: "date_format", problems: &problems)
        }
        var columns: [ResolvedColumn] = []
        var fieldsSeen: [String: Int] = [:]
        for (index, column) in mapping.columns.enumerated() {
            var local: [String] = []
            if let resolved = ResolvedColumn(
                column,
                kind: kind,
                emptyCells: emptyCells,
                dateFormat: dateFormat,
                keyColumn: mapping.keyColumn,
                problems: &local
            ) {
                columns.append(resolved)
            }
            if let first = fieldsSeen[column.field] {
                local.append(
                    "field '\(column.field)' is already filled by columns[\(first)] ('\(mapping.columns[first].column)')"
                )
            } else {
                fieldsSeen[column.field] = index
            }
            problems += local.map { "columns[\(index)] ('\(column.column)' → \(column.field)): \($0)" }
        }
        let mapped = Set(mapping.columns.map(\.column))
        for (index, column) in mapping.columns.enumerated() {
            guard let currencyColumn = column.currencyColumn else { continue }
            if mapped.contains(currencyColumn) || currencyColumn == mapping.keyColumn {
                problems.append(
                    "columns[\(index)] ('\(column.column)' → \(column.field)): currency_column '\(currencyColumn)' "
                        + "is also mapped to a field or is the key column; a currency column only gives currencies"
                )
            }
        }
        guard problems.isEmpty else {
            let name = mapping.name.map { "mapping '\($0)'" } ?? "the mapping"
            throw CSVError(
                .invalidMapping,
                "\(name) is not valid:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
            )
        }
        self.mapping = mapping
        self.kind = kind
        self.columns = columns
        self.numberFormat = numberFormat
        (self.exportHeader, self.exportLayout) = Self.layout(keyColumn: mapping.keyColumn, columns: columns)
    }

    /// The catalog's and the mapping's fields this plan fills, in mapping order.
    public var fields: [String] { columns.map(\.field) }

    /// Where an imported field is written: its catalog placement, or `private` for a field outside the catalog
    /// (a CRM's custom field stays with the company unless a policy shares it).
    public func placement(of field: String) -> Placement {
        kind.field(named: field)?.placement ?? .private
    }

    /// Resolves company names for a company field when no resolver is given: a 32-hex-digit id is taken as is.
    public static func companyIDs(_ text: String) -> String? {
        let lower = text.lowercased()
        guard lower.utf8.count == 32, lower.utf8.allSatisfy({ Lenient.isDigit($0) || (97...102).contains($0) })
        else { return nil }
        return lower
    }

    static func choose<Option: RawRepresentable & CaseIterable>(
        _ text: String?,
        default fallback: Option,
        key: String,
        problems: inout [String]
    ) -> Option where Option.RawValue == String {
        guard let text else { return fallback }
        if let option = Option(rawValue: text) { return option }
        let known = Option.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        problems.append("\(key) \"\(text)\" is not one of \(known)")
        return fallback
    }

    /// An output column of an export and where its text comes from.
    enum ExportCell: Sendable {
        case key
        /// Columns (indices into `columns`) reading this CSV column, in mapping order.
        case fields([Int])
        /// A currency column, and the money columns (indices) using it.
        case currency([Int])
    }

    private static func layout(keyColumn: String, columns: [ResolvedColumn]) -> ([String], [ExportCell]) {
        var header = [keyColumn]
        var cells: [ExportCell] = [.key]
        var position: [String: Int] = [keyColumn: 0]
        for (index, column) in columns.enumerated() {
            if let at = position[column.column] {
                if case .fields(let list) = cells[at] { cells[at] = .fields(list + [index]) }
            } else {
                position[column.column] = header.count
                header.append(column.column)
                cells.append(.fields([index]))
            }
            guard let currencyColumn = column.currencyColumn else { continue }
            if let at = position[currencyColumn] {
                if case .currency(let list) = cells[at] { cells[at] = .currency(list + [index]) }
            } else {
                position[currencyColumn] = header.count
                header.append(currencyColumn)
                cells.append(.currency([index]))
            }
        }
        return (header, cells)
    }
}

/// A value map, looked up exactly, then trimmed and case-folded; its inverse gives the first CRM value of each of
/// our values.
struct ValueMap: Sendable {
    var exact: [String: String] = [:]
    var folded: [String: String] = [:]
    var inverse: [String: String] = [:]
    var crmValues: [String] = []

    init(_ entries: [Mapping.ValueMapping], problems: inout [String]) {
        for entry in entries {
            if exact[entry.crm] != nil {
                problems.append("the value map lists '\(entry.crm)' twice")
                continue
            }
            exact[entry.crm] = entry.value
            crmValues.append(entry.crm)
            let key = Self.fold(entry.crm)
            if folded[key] == nil { folded[key] = entry.value }
            if inverse[entry.value] == nil { inverse[entry.value] = entry.crm }
        }
    }

    static func fold(_ text: String) -> String { Lenient.trim(text).lowercased() }

    /// Our value for a CRM value, if the map has it.
    func map(_ text: String) -> String? {
        exact[text] ?? folded[Self.fold(text)]
    }

    /// The CRM value written for one of our values (the value itself if the map does not name it).
    func crm(for value: String) -> String { inverse[value] ?? value }
}

/// One mapped column, checked: its field's type and the options that apply to it.
///
/// A class, so that the
/// per-cell loop of an import does not copy its fields.
final class ResolvedColumn: Sendable {
    let column: String
    let field: String
    let type: FieldType
    let values: ValueMap?
    let acceptedDates: [DateFormat]
    let exportDate: DateFormat
    let currency: CurrencyCode?
    let currencyColumn: String?
    let separator: String
    let emptyCells: EmptyCells

    static let types: [String: FieldType] = [
        "text": .text, "integer": .integer(nil), "decimal": .decimal, "money": .money, "boolean": .boolean,
        "date": .date, "timestamp": .timestamp, "set": .set,
    ]

    static func basicName(_ type: FieldType) -> String {
        switch type {
        case .integer: "integer"
        case .choice: "choice"
        case .reference: "reference"
        default: type.name
        }
    }

    init?(
        _ column: Mapping.Column,
        kind: ObjectKind,
        emptyCells: EmptyCells,
        dateFormat: DateFormat?,
        keyColumn: String,
        problems: inout [String]
    ) {
        let before = problems.count
        if Lenient.trim(column.column).isEmpty { problems.append("the column name is empty") }
        let validName = column.field.utf8.allSatisfy {
            (97...122).contains($0) || (65...90).contains($0) || Lenient.isDigit($0) || $0 == 95 || $0 == 45 || $0 == 46
        }
        if column.field.isEmpty || !validName {
            problems.append("field name '\(column.field)' is not a field name (letters, digits, _, - and . only)")
        }
        if column.field == "crm_id" {
            problems.append("crm_id is filled from key_column ('\(keyColumn)'); do not map it")
        }
        var type = FieldType.text
        if let spec = kind.field(named: column.field) {
            type = spec.type
            if let given = column.type, given != Self.basicName(spec.type) {
                problems.append(
                    "'\(column.field)' is a catalog field of type \(spec.type.name): remove \"type\": \"\(given)\""
                )
            }
        } else if let given = column.type {
            if let known = Self.types[given] {
                type = known
            } else {
                let names = Self.types.keys.sorted().joined(separator: ", ")
                problems.append("type \"\(given)\" is not one of \(names)")
            }
        }
        self.column = column.column
        self.field = column.field
        self.type = type
        self.currencyColumn = column.currencyColumn
        self.emptyCells =
            column.emptyCells.map {
                CSVPlan.choose($0, default: emptyCells, key: "empty_cells", problems: &problems)
            } ?? emptyCells

        var dates = dateFormat.map { [$0, .iso] } ?? DateFormat.defaultAccepted
        var exportDate = dateFormat ?? .iso
        if let given = column.dateFormat {
            if type != .date && type != .timestamp {
                problems.append("date_format applies to date and timestamp fields, not \(type.name)")
            }
            let format = CSVPlan.choose(given, default: DateFormat.iso, key: "date_format", problems: &problems)
            dates = format == .iso ? [.iso] : [format, .iso]
            exportDate = format
        }
        self.acceptedDates = dates
        self.exportDate = exportDate

        var currency: CurrencyCode?
        if let code = column.currency {
            currency = CurrencyCode(code)
            if currency == nil { problems.append("currency \"\(code)\" is not an ISO 4217 code such as USD") }
        }
        self.currency = currency
        if type == .money {
            if column.currency == nil && column.currencyColumn == nil {
                problems.append(
                    "a money field needs \"currency\" (a fixed code such as USD) or \"currency_column\" "
                        + "(the column holding each row's currency), or both"
                )
            }
        } else if column.currency != nil || column.currencyColumn != nil {
            problems.append("currency and currency_column apply to money fields, not \(type.name)")
        }

        if let separator = column.setSeparator {
            if type != .set { problems.append("set_separator applies to set fields, not \(type.name)") }
            if separator.isEmpty || separator.contains(where: { $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
                problems.append("set_separator must be non-empty text without quotes or line breaks")
            }
        }
        self.separator = column.setSeparator ?? ";"

        if let entries = column.values {
            let map = ValueMap(entries, problems: &problems)
            switch type {
            case .money, .decimal, .date, .timestamp, .reference:
                problems.append(
                    "value maps apply to text, choice, boolean, integer, company and set fields, not \(type.name)"
                )
            case .choice(let allowed):
                for entry in entries where !allowed.contains(entry.value) {
                    problems.append(
                        "the value map sends '\(entry.crm)' to '\(entry.value)', which is not one of "
                            + allowed.joined(separator: ", ")
                    )
                }
            case .boolean:
                for entry in entries where entry.value != "true" && entry.value != "false" {
                    problems.append(
                        "the value map sends '\(entry.crm)' to '\(entry.value)'; a boolean is true or false"
                    )
                }
            case .integer:
                for entry in entries {
                    if case .failure(let problem) = type.parse(entry.value) {
                        problems.append("the value map sends '\(entry.crm)' to '\(entry.value)': \(problem.message)")
                    }
                }
            case .text, .company, .set:
                break
            }
            self.values = map
        } else {
            self.values = nil
        }
        if problems.count > before { return nil }
    }
}
