/// How the columns of a CRM's CSV export map to the fields of one object kind: a JSON file
/// (`Specs/csv.md` documents every key) or a built-in such as `salesforce-opportunity`.
///
/// A mapping is plain data; ``CSVPlan`` checks it against the catalog and applies it.
///
/// ```json
/// {
///   "object_type": "opportunity",
///   "key_column": "Opportunity ID",
///   "columns": [
///     { "column": "Opportunity Name", "field": "title" },
///     { "column": "Stage", "field": "stage", "values": [["Closed Won", "closed-won"]] },
///     { "column": "Amount", "field": "amount", "currency_column": "Currency", "currency": "USD" }
///   ]
/// }
/// ```
public struct Mapping: Codable, Hashable, Sendable {
    /// The mapping's name (for built-ins, the name `builtin(named:)` takes).
    public var name: String?
    /// What the mapping reads, for people.
    public var summary: String?
    /// The object kind imported (`opportunity`, `lead`, ...).
    public var objectType: String
    /// The column holding the CRM record id: the key of upserts, stored in the private field `crm_id`.
    public var keyColumn: String
    /// What an empty cell does: `skip` (the default: the field is left as is) or `unset` (the field is cleared).
    public var emptyCells: String?
    /// The date format of every date and timestamp column that names none (default: ISO or M/D/YYYY).
    public var dateFormat: String?
    /// How numbers are written: `1,234.56` (the default), `1.234,56` or `1 234,56`.
    public var numberFormat: String?
    /// The mapped columns, in the order an export writes them.
    public var columns: [Column]

    /// Creates a mapping.
    public init(
        name: String? = nil,
        summary: String? = nil,
        objectType: String,
        keyColumn: String,
        emptyCells: String? = nil,
        dateFormat: String? = nil,
        numberFormat: String? = nil,
        columns: [Column]
    ) {
        self.name = name
        self.summary = summary
        self.objectType = objectType
        self.keyColumn = keyColumn
        self.emptyCells = emptyCells
        self.dateFormat = dateFormat
        self.numberFormat = numberFormat
        self.columns = columns
    }

    /// One CSV column read into one field.
    ///
    /// A column may feed several fields (a CRM stage kept raw as well).
    public struct Column: Codable, Hashable, Sendable {
        /// The column's name in the header.
        public var column: String
        /// The field it fills: a catalog field, or any other name (a custom field, text unless `type` says).
        public var field: String
        /// The type of a field outside the catalog: text, integer, decimal, money, boolean, date, timestamp, set.
        public var type: String?
        /// CRM values and the values they stand for, in order; an export writes the first CRM value of each.
        public var values: [ValueMapping]?
        /// The date format of this column (overrides the mapping's).
        public var dateFormat: String?
        /// The ISO 4217 currency of a money column, or the default when the currency column's cell is empty.
        public var currency: String?
        /// The column holding each row's currency code, for a money column.
        public var currencyColumn: String?
        /// The separator of a set column's elements (default `;`).
        public var setSeparator: String?
        /// What an empty cell of this column does (overrides the mapping's `empty_cells`).
        public var emptyCells: String?

        /// Creates a column mapping.
        public init(
            _ column: String,
            _ field: String,
            type: String? = nil,
            values: [ValueMapping]? = nil,
            dateFormat: String? = nil,
            currency: String? = nil,
            currencyColumn: String? = nil,
            setSeparator: String? = nil,
            emptyCells: String? = nil
        ) {
            self.column = column
            self.field = field
            self.type = type
            self.values = values
            self.dateFormat = dateFormat
            self.currency = currency
            self.currencyColumn = currencyColumn
            self.setSeparator = setSeparator
            self.emptyCells = emptyCells
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case column, field, type, values
            case dateFormat = "date_format"
            case currency
            case currencyColumn = "currency_column"
            case setSeparator = "set_separator"
            case emptyCells = "empty_cells"
        }

        /// Decodes a column, rejecting unknown keys (a misspelt option must not be silently ignored).
        public init(from decoder: any Decoder) throws {
            try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let container = try decoder.container(keyedBy: CodingKeys.self)
            column = try container.decode(String.self, forKey: .column)
            field = try container.decode(String.self, forKey: .field)
            type = try container.decodeIfPresent(String.self, forKey: .type)
            values = try container.decodeIfPresent([ValueMapping].self, forKey: .values)
            dateFormat = try container.decodeIfPresent(String.self, forKey: .dateFormat)
            currency = try container.decodeIfPresent(String.self, forKey: .currency)
            currencyColumn = try container.decodeIfPresent(String.self, forKey: .currencyColumn)
            setSeparator = try container.decodeIfPresent(String.self, forKey: .setSeparator)
            emptyCells = try container.decodeIfPresent(String.self, forKey: .emptyCells)
        }
    }

    /// One entry of a value map: a CRM value and the value it stands for (JSON: a two-string array).
    public struct ValueMapping: Codable, Hashable, Sendable {
        /// The value as the CRM writes it (`Closed Won`).
        public var crm: String
        /// The value as Entente stores it, in its canonical text form (`closed-won`).
        public var value: String

        /// Creates an entry.
        public init(_ crm: String, _ value: String) {
            self.crm = crm
            self.value = value
        }

        /// Decodes `["Closed Won", "closed-won"]`.
        public init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            let pair = [try container.decode(String.self), try container.decode(String.self)]
            guard container.isAtEnd else {
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(
                        codingPath: decoder.codingPath,
                        debugDescription: "a value map entry is a pair [\"CRM value\", \"our value\"]"
                    )
                )
            }
            crm = pair[0]
            value = pair[1]
        }

        /// Encodes `["Closed Won", "closed-won"]`.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.unkeyedContainer()
            try container.encode(crm)
            try container.encode(value)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name
        case summary = "description"
        case objectType = "object_type"
        case keyColumn = "key_column"
        case emptyCells = "empty_cells"
        case dateFormat = "date_format"
        case numberFormat = "number_format"
        case columns
    }

    /// Decodes a mapping, rejecting unknown keys (a misspelt option must not be silently ignored).
    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        summary = try container.decodeIfPresent(String.self, forKey: .summary)
        objectType = try container.decode(String.self, forKey: .objectType)
        keyColumn = try container.decode(String.self, forKey: .keyColumn)
        emptyCells = try container.decodeIfPresent(String.self, forKey: .emptyCells)
        dateFormat = try container.decodeIfPresent(String.self, forKey: .dateFormat)
        numberFormat = try container.decodeIfPresent(String.self, forKey: .numberFormat)
        columns = try container.decode([Column].self, forKey: .columns)
    }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

private func rejectUnknownKeys(in decoder: any Decoder, allowed: [String]) throws {
    let container = try decoder.container(keyedBy: AnyKey.self)
    let unknown = container.allKeys.map(\.stringValue).filter { !allowed.contains($0) }.sorted()
    guard unknown.isEmpty else {
        throw DecodingError.dataCorrupted(
            DecodingError.Context(
                codingPath: decoder.codingPath,
                debugDescription: "unknown key\(unknown.count == 1 ? "" : "s") "
                    + unknown.map { "\"\($0)\"" }.joined(separator: ", ") + " (known: "
                    + allowed.joined(separator: ", ") + ")"
            )
        )
    }
}
