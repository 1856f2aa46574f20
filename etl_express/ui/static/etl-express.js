// ETL-Express page for Airflow's React plugin host (Airflow 3.3).
//
// A plain ES module, no build step: the host imports this file by URL and renders
// globalThis["ETL-Express"]; React and Chakra UI come from the host (globalThis.React,
// globalThis.ChakraUI), so the page shares Airflow's theme, light and dark. Data comes from the
// ETL-Express REST API next to this file (../api/v1/), authenticated by Airflow's session cookie.

const React = globalThis.React;
const C = globalThis.ChakraUI;
const h = React.createElement;
const { useState, useEffect, useCallback, useRef } = React;

const API = new URL("../api/v1/", import.meta.url).href;
const AIRFLOW_ROOT = new URL("../../", import.meta.url).href;

// ---------------------------------------------------------------- API access

class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : `Request failed (HTTP ${status})`);
    this.status = status;
    this.fieldErrors = Array.isArray(detail) ? detail : [];
  }
}

async function api(path, { method = "GET", body } = {}) {
  const response = await fetch(API + path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (!response.ok) {
    throw new ApiError(response.status, data && data.detail);
  }
  return data;
}

function useApi(path) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return undefined;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    api(path).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// ---------------------------------------------------------------- small building blocks

const STATE_COLORS = {
  active: "green", paused: "gray", draft: "orange",
  queued: "gray", running: "blue", success: "green", failed: "red", cancelled: "gray",
  processing: "blue", ready_for_review: "yellow", approved: "teal", uploading: "blue",
  uploaded: "green", rejected: "red", expired: "gray", blocked: "red",
  extraction: "blue", field_rules: "purple", transformation: "cyan", anonymization: "pink",
  upload: "teal",
};

function StateBadge({ value, testId }) {
  return h(C.Badge, { colorPalette: STATE_COLORS[value] || "gray", variant: "subtle", "data-testid": testId }, value || "—");
}

// A run's stats hold one total per stage (see etl_express/stages/tracking.py); shown in the
// order data flows, one line each: "field_rules: 2/3 chunks · 2,000→1,995 rows · 5 quarantined".
const STAGE_ORDER = ["extract", "field_rules", "transform", "anonymize", "load_outbox"];

function stageRank(stage) {
  const rank = STAGE_ORDER.indexOf(stage.split(/[[.]/)[0]);
  return rank < 0 ? STAGE_ORDER.length : rank;
}

function count(value) {
  return typeof value === "number" ? value.toLocaleString() : String(value);
}

function rowCounts(c) {
  if (c.rows_in !== undefined && c.rows_out !== undefined) return `${count(c.rows_in)}→${count(c.rows_out)} rows`;
  const rows = c.rows ?? c.rows_out ?? c.rows_in;
  return rows === undefined ? null : `${count(rows)} rows`;
}

function stageSummary(c) {
  if (!c || typeof c !== "object") return [];
  const parts = [];
  if (c.chunks_expected !== undefined) parts.push(`${count(c.chunks ?? 0)}/${count(c.chunks_expected)} chunks`);
  else if (c.chunks !== undefined) parts.push(`${count(c.chunks)} chunk${c.chunks === 1 ? "" : "s"}`);
  const rows = rowCounts(c);
  if (rows) parts.push(rows);
  if (c.rows_quarantined) parts.push(`${count(c.rows_quarantined)} quarantined`);
  if (c.gate_findings) parts.push(`${count(c.gate_findings)} gate finding${c.gate_findings === 1 ? "" : "s"}`);
  return parts;
}

// [{stage, text}] from a run's stats; a stage fed by several extraction inputs lists each.
function stageRows(stats) {
  return Object.entries(stats || {})
    .sort(([a], [b]) => stageRank(a) - stageRank(b) || a.localeCompare(b))
    .map(([stage, c]) => {
      const parts = stageSummary(c);
      let text = parts.length ? `${stage}: ${parts.join(" · ")}` : stage;
      const inputs = Object.entries((c && c.inputs) || {});
      if (inputs.length > 1) {
        text += ` (${inputs.map(([name, sub]) => `${name}: ${stageSummary(sub).join(", ")}`).join("; ")})`;
      }
      return { stage, text };
    });
}

function StageRows({ stats }) {
  const rows = stageRows(stats);
  if (!rows.length) return "—";
  return h(
    C.Stack,
    { gap: 0, fontSize: "xs" },
    ...rows.map(({ stage, text }) => h(C.Text, { key: stage, "data-testid": `stage-rows-${stage}` }, text)),
  );
}

function when(value) {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

function Loading() {
  return h(C.HStack, { gap: 2, py: 4, color: "fg.muted" }, h(C.Spinner, { size: "sm" }), h(C.Text, null, "Loading…"));
}

function ErrorBox({ error, title = "Something went wrong" }) {
  if (!error) return null;
  const lines = error.fieldErrors && error.fieldErrors.length
    ? error.fieldErrors.map((e) => `${e.path}: ${e.msg}`)
    : [error.message];
  return h(
    C.Alert.Root,
    { status: "error", my: 2 },
    h(C.Alert.Indicator),
    h(
      C.Alert.Content,
      null,
      h(C.Alert.Title, null, title),
      ...lines.map((line, i) => h(C.Alert.Description, { key: i }, line)),
    ),
  );
}

function Notice({ text, status = "success" }) {
  if (!text) return null;
  return h(C.Alert.Root, { status, my: 2 }, h(C.Alert.Indicator), h(C.Alert.Title, null, text));
}

function Section({ title, children, actions }) {
  return h(
    C.Box,
    { borderWidth: "1px", borderColor: "border", borderRadius: "md", p: 4, bg: "bg" },
    h(
      C.HStack,
      { justifyContent: "space-between", mb: 3 },
      h(C.Heading, { size: "md" }, title),
      actions || null,
    ),
    children,
  );
}

function DataTable({ columns, rows, onRowClick, empty = "Nothing yet.", rowKey }) {
  if (!rows || rows.length === 0) {
    return h(C.Text, { color: "fg.muted", py: 2 }, empty);
  }
  return h(
    C.Table.Root,
    { size: "sm", interactive: Boolean(onRowClick) },
    h(
      C.Table.Header,
      null,
      h(C.Table.Row, null, ...columns.map((c) => h(C.Table.ColumnHeader, { key: c.label }, c.label))),
    ),
    h(
      C.Table.Body,
      null,
      ...rows.map((row, i) =>
        h(
          C.Table.Row,
          {
            key: rowKey ? rowKey(row) : i,
            onClick: onRowClick ? () => onRowClick(row) : undefined,
            cursor: onRowClick ? "pointer" : undefined,
          },
          ...columns.map((c) => h(C.Table.Cell, { key: c.label }, c.render(row))),
        ),
      ),
    ),
  );
}

function Select({ value, onChange, options, size = "sm", width, placeholder, testId }) {
  return h(
    C.NativeSelect.Root,
    { size, width },
    h(
      C.NativeSelect.Field,
      { value: value ?? "", onChange: (e) => onChange(e.target.value), placeholder, "data-testid": testId },
      ...options.map((o) => {
        const [val, label] = Array.isArray(o) ? o : [o, o];
        return h("option", { key: val, value: val }, label);
      }),
    ),
    h(C.NativeSelect.Indicator),
  );
}

function FormField({ label, error, helper, required, children }) {
  return h(
    C.Field.Root,
    { invalid: Boolean(error), required },
    h(C.Field.Label, null, label, required ? h(C.Field.RequiredIndicator) : null),
    children,
    helper && !error ? h(C.Field.HelperText, null, helper) : null,
    error ? h(C.Field.ErrorText, { whiteSpace: "pre-wrap" }, error) : null,
  );
}

function ProblemCount({ count }) {
  if (!count) return null;
  const text = count === 1 ? "1 field needs fixing (marked in red above); nothing was saved." : `${count} fields need fixing (marked in red above); nothing was saved.`;
  return h(Notice, { status: "error", text });
}

function Mono({ children }) {
  return h(
    C.Box,
    {
      as: "pre",
      fontFamily: "mono",
      fontSize: "xs",
      whiteSpace: "pre-wrap",
      bg: "bg.subtle",
      borderRadius: "md",
      p: 3,
      overflowX: "auto",
    },
    children,
  );
}

// Group field errors of a 422 response by the form field they belong to.
// `prefix` is the JSON path of the form's root inside the request body ("$.spec" for specs).
function errorsFor(fieldErrors, prefix, keys) {
  const byKey = {};
  const rest = [];
  for (const e of fieldErrors || []) {
    const path = e.path || "";
    let matched = false;
    for (const key of keys) {
      const base = `${prefix}.${key}`;
      if (path === base || path.startsWith(`${base}.`) || path.startsWith(`${base}[`)) {
        const sub = path.slice(prefix.length + 1);
        const line = path === base ? e.msg : `${sub}: ${e.msg}`;
        byKey[key] = byKey[key] ? `${byKey[key]}\n${line}` : line;
        matched = true;
        break;
      }
    }
    if (!matched) rest.push(e);
  }
  return { byKey, rest };
}

// ---------------------------------------------------------------- overview

function CountCard({ label, value, palette }) {
  return h(
    C.Box,
    { borderWidth: "1px", borderColor: "border", borderRadius: "md", p: 3, minW: "130px", bg: "bg" },
    h(C.Text, { fontSize: "sm", color: "fg.muted" }, label),
    h(C.Text, { fontSize: "2xl", fontWeight: "bold", color: palette ? `${palette}.fg` : undefined }, String(value ?? 0)),
  );
}

function Overview() {
  const { data, error, loading } = useApi("overview");
  if (loading && !data) return h(Loading);
  if (error) return h(ErrorBox, { error, title: "Could not load the overview" });
  const tasks = data.tasks || { by_state: {} };
  const batches = data.batches || { by_state: {} };
  return h(
    C.Stack,
    { gap: 4, "data-testid": "etlx-overview" },
    h(
      C.Flex,
      { gap: 3, wrap: "wrap" },
      h(CountCard, { label: "ETL tasks", value: tasks.total }),
      ...Object.entries(tasks.by_state || {}).map(([state, n]) =>
        h(CountCard, { key: state, label: `Tasks ${state}`, value: n, palette: STATE_COLORS[state] }),
      ),
      h(CountCard, { label: "Batches awaiting review", value: batches.awaiting_review, palette: "yellow" }),
    ),
    (tasks.with_dag_errors || []).length
      ? h(
          C.Alert.Root,
          { status: "warning" },
          h(C.Alert.Indicator),
          h(
            C.Alert.Content,
            null,
            h(C.Alert.Title, null, "Tasks whose DAG could not be built"),
            ...tasks.with_dag_errors.map((t) => h(C.Alert.Description, { key: t.slug }, `${t.name}: ${t.dag_error}`)),
          ),
        )
      : null,
    h(
      Section,
      { title: "Outbox batches by status" },
      h(
        C.Flex,
        { gap: 2, wrap: "wrap" },
        ...Object.entries(batches.by_state || {}).map(([state, n]) =>
          h(
            C.HStack,
            { key: state, gap: 1, borderWidth: "1px", borderColor: "border", borderRadius: "full", px: 3, py: 1 },
            h(StateBadge, { value: state }),
            h(C.Text, { fontWeight: "semibold", "data-testid": `batches-${state}` }, String(n)),
          ),
        ),
      ),
    ),
    h(
      C.SimpleGrid,
      { columns: { base: 1, xl: 2 }, gap: 4 },
      h(
        Section,
        { title: "Recent runs" },
        h(DataTable, {
          rows: data.recent_runs,
          empty: "No runs yet.",
          rowKey: (r) => r.id,
          columns: [
            { label: "Task", render: (r) => r.task_slug || r.task_id },
            { label: "Run", render: (r) => h(C.Text, { fontFamily: "mono", fontSize: "xs" }, r.dag_run_id) },
            { label: "State", render: (r) => h(StateBadge, { value: r.state }) },
            { label: "Stage", render: (r) => r.stage || "—" },
            { label: "Started", render: (r) => when(r.started_at) },
          ],
        }),
      ),
      h(
        Section,
        { title: "Recent audit events" },
        h(AuditTable, { rows: data.recent_events }),
      ),
    ),
  );
}

// ---------------------------------------------------------------- audit

function AuditTable({ rows, expandable = false }) {
  const [open, setOpen] = useState(null);
  const table = h(DataTable, {
    rows,
    empty: "No audit events yet.",
    rowKey: (e) => e.id,
    onRowClick: expandable ? (e) => setOpen(open && open.id === e.id ? null : e) : undefined,
    columns: [
      { label: "When", render: (e) => when(e.at) },
      { label: "Actor", render: (e) => (e.actor_kind === "system" ? `${e.actor} (system)` : e.actor) },
      { label: "Action", render: (e) => h(C.Code, { fontSize: "xs" }, e.action) },
      { label: "Object", render: (e) => `${e.object_type}${e.object_id ? ` ${e.object_id}` : ""}` },
    ],
  });
  if (!open) return table;
  const part = (label, value) =>
    value ? h(C.Box, { key: label }, h(C.Text, { fontSize: "sm", fontWeight: "semibold", mb: 1 }, label), h(Mono, null, JSON.stringify(value, null, 2))) : null;
  return h(
    C.Stack,
    { gap: 3 },
    table,
    h(
      Section,
      { title: `Event ${open.id}: ${open.action} by ${open.actor}` },
      h(C.SimpleGrid, { columns: { base: 1, lg: 3 }, gap: 3 }, part("Before", open.before), part("After", open.after), part("Details", open.details)),
    ),
  );
}

function AuditPage() {
  const [filters, setFilters] = useState({ q: "", actor: "", action: "" });
  const [applied, setApplied] = useState(filters);
  const [offset, setOffset] = useState(0);
  const limit = 25;
  const { data, error, loading } = useApi(`audit${query({ ...applied, limit, offset })}`);
  const set = (key) => (e) => setFilters({ ...filters, [key]: e.target.value });
  const search = (e) => {
    e.preventDefault();
    setOffset(0);
    setApplied(filters);
  };
  return h(
    C.Stack,
    { gap: 3 },
    h(
      "form",
      { onSubmit: search },
      h(
        C.HStack,
        { gap: 2 },
        h(C.Input, { size: "sm", placeholder: "Search words", value: filters.q, onChange: set("q"), maxW: "280px" }),
        h(C.Input, { size: "sm", placeholder: "Actor", value: filters.actor, onChange: set("actor"), maxW: "180px" }),
        h(C.Input, { size: "sm", placeholder: "Action (e.g. task)", value: filters.action, onChange: set("action"), maxW: "180px" }),
        h(C.Button, { size: "sm", type: "submit" }, "Search"),
      ),
    ),
    error ? h(ErrorBox, { error }) : null,
    loading && !data ? h(Loading) : null,
    data
      ? h(
          C.Stack,
          { gap: 2 },
          h(AuditTable, { rows: data.items, expandable: true }),
          h(
            C.HStack,
            { justifyContent: "space-between" },
            h(C.Text, { fontSize: "sm", color: "fg.muted" }, `${data.total} events`),
            h(
              C.HStack,
              { gap: 2 },
              h(C.Button, { size: "xs", variant: "outline", disabled: offset === 0, onClick: () => setOffset(Math.max(0, offset - limit)) }, "Newer"),
              h(C.Button, { size: "xs", variant: "outline", disabled: offset + limit >= data.total, onClick: () => setOffset(offset + limit) }, "Older"),
            ),
          ),
        )
      : null,
  );
}

// ---------------------------------------------------------------- scripts

const KINDS = ["extraction", "field_rules", "transformation", "anonymization", "upload"];

// Form fields per script kind. "json" fields hold nested structures edited as JSON text;
// errors under their path are shown beneath them.
const KIND_FIELDS = {
  extraction: [
    { key: "source", label: "Source", type: "select", options: ["postgres", "mysql", "csv", "parquet"], required: true },
    { key: "connection_id", label: "Airflow connection", type: "text", helper: "Connection id in Airflow (Admin → Connections)" },
    { key: "query", label: "Query", type: "code", rows: 7, helper: "SELECT or WITH only; Airflow templates such as {{ data_interval_start }} are allowed" },
    { key: "path", label: "File path", type: "text", helper: "For CSV/Parquet: absolute path, glob or s3:// URI" },
    { key: "incremental_column", label: "Incremental column", type: "text" },
    { key: "chunk_size", label: "Chunk size (rows)", type: "number" },
    { key: "statement_timeout_s", label: "Statement timeout (s)", type: "number" },
  ],
  field_rules: [
    { key: "fields", label: "Fields", type: "json", rows: 14, helper: "Per field: steps (cast, trim, case, null_if, default, regex_replace, phone_e164, email, parse_date) and validations (GX expectation, kwargs, severity fail|quarantine|warn)" },
    { key: "dedupe", label: "Dedupe", type: "json", rows: 3, helper: '{"keys": ["id"], "keep": "last"}' },
    { key: "table_validations", label: "Table validations", type: "json", rows: 4, helper: "Checks of several columns in one row, run by Great Expectations: e.g. expect_column_pair_values_a_to_be_greater_than_b with kwargs column_A, column_B" },
  ],
  transformation: [
    { key: "language", label: "Language", type: "select", options: ["sql", "python"] },
    { key: "inputs", label: "Inputs", type: "json", rows: 4, helper: 'Named inputs: [{"name": "customers", "script": "extraction_script"}]' },
    { key: "sql", label: "SQL (DuckDB)", type: "code", rows: 7 },
    { key: "code", label: "Python (admins only, when enabled)", type: "code", rows: 5 },
  ],
  anonymization: [
    { key: "columns", label: "Columns", type: "json", rows: 10, helper: "Per column an operator: keep, drop, nullify, mask, redact, pseudonym, fake, generalize, encrypt" },
    { key: "text_columns", label: "Free-text columns", type: "json", rows: 8, helper: "Per column: language and the operator per detected entity" },
    { key: "quasi_identifiers", label: "Quasi-identifiers", type: "list", helper: "Comma separated column names" },
    { key: "unlisted_columns", label: "Columns not listed", type: "select", options: ["keep", "drop", "error"] },
  ],
  upload: [
    { key: "destination", label: "Destination", type: "select", options: ["local_file", "postgres_table", "s3_parquet", "mlflow"], required: true },
    { key: "connection_id", label: "Airflow connection", type: "text" },
    { key: "options", label: "Options", type: "json", rows: 6 },
  ],
};

const TEMPLATES = {
  extraction: {
    source: "postgres",
    connection_id: "etlx_demo",
    query: "SELECT id, full_name, email, phone, created_at\nFROM customers",
    incremental_column: "created_at",
    chunk_size: 100000,
  },
  field_rules: {
    fields: {
      email: {
        steps: [{ op: "trim" }, { op: "case", to: "lower" }],
        validations: [{ expectation: "expect_column_values_to_not_be_null", severity: "warn" }],
      },
    },
  },
  transformation: {
    language: "sql",
    inputs: [{ name: "customers" }],
    sql: "SELECT * FROM customers",
  },
  anonymization: {
    columns: { email: { operator: "pseudonym", prefix: "em_" } },
    text_columns: {},
    quasi_identifiers: [],
  },
  upload: {
    destination: "local_file",
    options: { directory: "/tmp/etlx-uploads", format: "parquet" },
  },
};

function specToForm(kind, spec) {
  const values = { description: spec.description || "" };
  for (const f of KIND_FIELDS[kind]) {
    const v = spec[f.key];
    if (v === undefined || v === null) values[f.key] = f.type === "select" ? f.options[0] : "";
    else if (f.type === "json") values[f.key] = JSON.stringify(v, null, 2);
    else if (f.type === "list") values[f.key] = v.join(", ");
    else values[f.key] = String(v);
  }
  return values;
}

// Returns [spec, localErrors]; JSON that does not parse is reported at its field.
function formToSpec(kind, values) {
  const spec = {};
  const local = {};
  if (values.description) spec.description = values.description;
  for (const f of KIND_FIELDS[kind]) {
    const raw = values[f.key];
    if (raw === undefined || raw === "") continue;
    if (f.type === "number") spec[f.key] = Number(raw);
    else if (f.type === "list") spec[f.key] = raw.split(",").map((s) => s.trim()).filter(Boolean);
    else if (f.type === "json") {
      try {
        spec[f.key] = JSON.parse(raw);
      } catch (e) {
        local[f.key] = `not valid JSON: ${e.message}`;
      }
    } else spec[f.key] = raw;
  }
  if (kind === "transformation" && spec.language === "sql") delete spec.code;
  return [spec, local];
}

function SpecField({ field, value, onChange, error }) {
  let input;
  if (field.type === "select") {
    input = h(Select, { value, onChange, options: field.options, testId: `field-${field.key}` });
  } else if (field.type === "json" || field.type === "code") {
    input = h(C.Textarea, {
      value,
      onChange: (e) => onChange(e.target.value),
      rows: field.rows || 4,
      fontFamily: "mono",
      fontSize: "sm",
      spellCheck: false,
      "data-field": field.key,
    });
  } else {
    input = h(C.Input, {
      size: "sm",
      type: field.type === "number" ? "number" : "text",
      value,
      onChange: (e) => onChange(e.target.value),
      "data-field": field.key,
    });
  }
  return h(FormField, { label: field.label, error, helper: field.helper, required: field.required }, input);
}

function ScriptEditor({ existing, onSaved, onCancel }) {
  const isNew = !existing;
  const [kind, setKind] = useState(existing ? existing.kind : "extraction");
  const [name, setName] = useState(existing ? existing.name : "");
  const [comment, setComment] = useState("");
  const [values, setValues] = useState(() => specToForm(kind, existing ? existing.spec : TEMPLATES[kind]));
  const [errors, setErrors] = useState({ byKey: {}, rest: [], envelope: {} });
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);

  const changeKind = (next) => {
    setKind(next);
    setValues(specToForm(next, TEMPLATES[next]));
    setErrors({ byKey: {}, rest: [], envelope: {} });
    setMessage(null);
  };
  const setValue = (key) => (v) => setValues({ ...values, [key]: v });

  const submit = async (validateOnly) => {
    setMessage(null);
    const [spec, local] = formToSpec(kind, values);
    if (Object.keys(local).length) {
      setErrors({ byKey: local, rest: [], envelope: {} });
      return;
    }
    setBusy(true);
    try {
      let result;
      if (validateOnly) {
        await api("scripts/validate", { method: "POST", body: { kind, spec } });
        setMessage("Valid. Nothing was saved.");
      } else if (isNew) {
        result = await api("scripts", { method: "POST", body: { kind, name, spec, comment: comment || null } });
      } else {
        result = await api(`scripts/${encodeURIComponent(name)}`, { method: "PUT", body: { spec, comment: comment || null } });
      }
      setErrors({ byKey: {}, rest: [], envelope: {} });
      if (result) onSaved(result);
    } catch (error) {
      const keys = ["description", ...KIND_FIELDS[kind].map((f) => f.key)];
      const grouped = errorsFor(error.fieldErrors, "$.spec", keys);
      const envelope = {};
      const rest = [];
      for (const e of grouped.rest) {
        const key = e.path.replace(/^\$\./, "");
        if (["name", "kind", "comment"].includes(key)) envelope[key] = e.msg;
        else rest.push(e);
      }
      if (!error.fieldErrors.length) rest.push({ path: "", msg: error.message });
      setErrors({ byKey: grouped.byKey, rest, envelope });
    } finally {
      setBusy(false);
    }
  };

  return h(
    C.Stack,
    { gap: 4, maxW: "4xl", "data-testid": "script-editor" },
    h(C.Heading, { size: "md" }, isNew ? "New script" : `New version of ${name}`),
    h(
      C.SimpleGrid,
      { columns: { base: 1, md: 2 }, gap: 4 },
      h(
        FormField,
        { label: "Kind", error: errors.envelope.kind, required: true },
        isNew ? h(Select, { value: kind, onChange: changeKind, options: KINDS, testId: "script-kind" }) : h(StateBadge, { value: kind }),
      ),
      h(
        FormField,
        { label: "Name", error: errors.envelope.name, required: true, helper: "Letters, digits, _ . - ; unique" },
        h(C.Input, { size: "sm", value: name, disabled: !isNew, onChange: (e) => setName(e.target.value), "data-field": "name" }),
      ),
    ),
    h(
      FormField,
      { label: "Description", error: errors.byKey.description },
      h(C.Input, { size: "sm", value: values.description, onChange: (e) => setValue("description")(e.target.value) }),
    ),
    ...KIND_FIELDS[kind].map((field) =>
      h(SpecField, { key: `${kind}-${field.key}`, field, value: values[field.key], onChange: setValue(field.key), error: errors.byKey[field.key] }),
    ),
    h(
      FormField,
      { label: "Comment for this version", error: errors.envelope.comment },
      h(C.Input, { size: "sm", value: comment, onChange: (e) => setComment(e.target.value) }),
    ),
    errors.rest.length ? h(ErrorBox, { error: { fieldErrors: errors.rest, message: "" }, title: "Please fix" }) : null,
    h(ProblemCount, { count: Object.keys(errors.byKey).length + Object.keys(errors.envelope).length }),
    h(Notice, { text: message }),
    h(
      C.HStack,
      { gap: 2 },
      h(C.Button, { colorPalette: "blue", loading: busy, onClick: () => submit(false), "data-testid": "save-script" }, "Save"),
      h(C.Button, { variant: "outline", disabled: busy, onClick: () => submit(true) }, "Validate"),
      h(C.Button, { variant: "ghost", onClick: onCancel }, "Cancel"),
    ),
  );
}

function DiffView({ text }) {
  if (!text) return h(C.Text, { color: "fg.muted" }, "The two versions are identical.");
  const color = (line) => {
    if (line.startsWith("+++") || line.startsWith("---")) return "fg.muted";
    if (line.startsWith("+")) return "green.fg";
    if (line.startsWith("-")) return "red.fg";
    if (line.startsWith("@@")) return "blue.fg";
    return undefined;
  };
  return h(
    C.Box,
    { as: "pre", fontFamily: "mono", fontSize: "xs", bg: "bg.subtle", p: 3, borderRadius: "md", overflowX: "auto", "data-testid": "diff" },
    ...text.split("\n").map((line, i) => h(C.Box, { as: "span", display: "block", key: i, color: color(line) }, line || " ")),
  );
}

function ScriptDetail({ name, onEdit, onBack }) {
  const detail = useApi(`scripts/${encodeURIComponent(name)}`);
  const versions = useApi(`scripts/${encodeURIComponent(name)}/versions`);
  const [pair, setPair] = useState(null);
  const latest = detail.data ? detail.data.latest.version : null;
  useEffect(() => {
    if (latest) setPair({ old: Math.max(1, latest - 1), new: latest });
  }, [latest]);
  const diff = useApi(pair && pair.old !== pair.new ? `scripts/${encodeURIComponent(name)}/diff${query(pair)}` : null);
  if (detail.error) return h(ErrorBox, { error: detail.error });
  if (!detail.data) return h(Loading);
  const { script, latest: version } = detail.data;
  const versionOptions = (versions.data || []).map((v) => [String(v.version), `v${v.version}`]);
  return h(
    C.Stack,
    { gap: 4 },
    h(
      C.HStack,
      { justifyContent: "space-between" },
      h(
        C.HStack,
        { gap: 3 },
        h(C.Button, { size: "sm", variant: "ghost", onClick: onBack }, "← Scripts"),
        h(C.Heading, { size: "lg" }, script.name),
        h(StateBadge, { value: script.kind }),
        h(C.Badge, { variant: "outline" }, `v${script.latest_version}`),
      ),
      h(C.Button, { size: "sm", colorPalette: "blue", onClick: () => onEdit(version) }, "Edit (new version)"),
    ),
    script.description ? h(C.Text, { color: "fg.muted" }, script.description) : null,
    h(Section, { title: `Version ${version.version}` }, h(Mono, null, JSON.stringify(version.spec, null, 2))),
    h(
      Section,
      { title: "Version history" },
      h(DataTable, {
        rows: versions.data,
        rowKey: (v) => v.version,
        columns: [
          { label: "Version", render: (v) => `v${v.version}` },
          { label: "Saved by", render: (v) => v.created_by },
          { label: "When", render: (v) => when(v.created_at) },
          { label: "Comment", render: (v) => v.comment || "—" },
        ],
      }),
    ),
    versionOptions.length > 1 && pair
      ? h(
          Section,
          {
            title: "Diff",
            actions: h(
              C.HStack,
              { gap: 2 },
              h(Select, { value: String(pair.old), onChange: (v) => setPair({ ...pair, old: Number(v) }), options: versionOptions, width: "100px" }),
              h(C.Text, null, "→"),
              h(Select, { value: String(pair.new), onChange: (v) => setPair({ ...pair, new: Number(v) }), options: versionOptions, width: "100px" }),
            ),
          },
          pair.old === pair.new ? h(C.Text, { color: "fg.muted" }, "Pick two different versions.") : diff.error ? h(ErrorBox, { error: diff.error }) : diff.data ? h(DiffView, { text: diff.data.diff }) : h(Loading),
        )
      : null,
  );
}

function ScriptsPage() {
  const [view, setView] = useState({ mode: "list" });
  const [filters, setFilters] = useState({ q: "", kind: "" });
  const list = useApi(view.mode === "list" ? `scripts${query({ ...filters, limit: 200 })}` : null);
  if (view.mode === "new") {
    return h(ScriptEditor, { onSaved: (v) => setView({ mode: "detail", name: v.name }), onCancel: () => setView({ mode: "list" }) });
  }
  if (view.mode === "edit") {
    return h(ScriptEditor, {
      existing: view.version,
      onSaved: (v) => setView({ mode: "detail", name: v.name, key: Date.now() }),
      onCancel: () => setView({ mode: "detail", name: view.version.name }),
    });
  }
  if (view.mode === "detail") {
    return h(ScriptDetail, {
      key: `${view.name}-${view.key || 0}`,
      name: view.name,
      onEdit: (version) => setView({ mode: "edit", version }),
      onBack: () => setView({ mode: "list" }),
    });
  }
  return h(
    C.Stack,
    { gap: 3 },
    h(
      C.HStack,
      { gap: 2 },
      h(C.Input, { size: "sm", placeholder: "Search scripts", value: filters.q, onChange: (e) => setFilters({ ...filters, q: e.target.value }), maxW: "280px" }),
      h(Select, { value: filters.kind, onChange: (kind) => setFilters({ ...filters, kind }), options: [["", "All kinds"], ...KINDS], width: "180px" }),
      h(C.Spacer),
      h(C.Button, { size: "sm", colorPalette: "blue", onClick: () => setView({ mode: "new" }), "data-testid": "new-script" }, "New script"),
    ),
    list.error ? h(ErrorBox, { error: list.error }) : null,
    list.loading && !list.data ? h(Loading) : null,
    list.data
      ? h(DataTable, {
          rows: list.data,
          empty: "No scripts match.",
          rowKey: (s) => s.id,
          onRowClick: (s) => setView({ mode: "detail", name: s.name }),
          columns: [
            { label: "Name", render: (s) => h(C.Text, { fontWeight: "medium" }, s.name) },
            { label: "Kind", render: (s) => h(StateBadge, { value: s.kind }) },
            { label: "Latest", render: (s) => `v${s.latest_version}` },
            { label: "Updated", render: (s) => when(s.updated_at) },
            { label: "Created by", render: (s) => s.created_by },
          ],
        })
      : null,
  );
}

// ---------------------------------------------------------------- tasks

const SINGLE_ROLES = [
  ["field_rules", true],
  ["transformation", false],
  ["anonymization", true],
  ["upload", true],
];

function emptyTask() {
  return {
    name: "",
    description: "",
    owner: "",
    schedule: "@daily",
    retention_days: 14,
    approver_must_differ: true,
    execution: "mapped",
    quasi_identifiers: [],
    tags: [],
    scripts: {
      extraction: [{ name: "", version: null, input: "source" }],
      field_rules: { name: "", version: null },
      transformation: null,
      anonymization: { name: "", version: null },
      upload: { name: "", version: null },
    },
  };
}

function VersionPicker({ script, value, onChange }) {
  const versions = useApi(script ? `scripts/${encodeURIComponent(script)}/versions` : null);
  const options = [["", "latest"], ...((versions.data || []).map((v) => [String(v.version), `v${v.version}`]))];
  return h(Select, { value: value == null ? "" : String(value), onChange: (v) => onChange(v ? Number(v) : null), options, width: "110px" });
}

function ScriptPicker({ kind, scripts, value, onChange, testId }) {
  const names = scripts.filter((s) => s.kind === kind).map((s) => s.name);
  return h(Select, { value: value || "", onChange, options: [["", `Choose ${kind.replace("_", " ")}…`], ...names], width: "260px", testId });
}

function TaskEditor({ existing, onSaved, onCancel }) {
  const [task, setTask] = useState(() => (existing ? JSON.parse(JSON.stringify(existing.spec)) : emptyTask()));
  const scripts = useApi("scripts?limit=500");
  const [errors, setErrors] = useState({ byKey: {}, rest: [] });
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (key, value) => setTask({ ...task, [key]: value });
  const setScripts = (role, value) => setTask({ ...task, scripts: { ...task.scripts, [role]: value } });

  const payload = () => {
    const body = { ...task };
    for (const key of ["slug", "schedule", "description"]) {
      if (body[key] === "" || body[key] === undefined) delete body[key];
    }
    const s = { ...task.scripts };
    if (!s.transformation || !s.transformation.name) delete s.transformation;
    body.scripts = s;
    return body;
  };

  const submit = async (validateOnly) => {
    setBusy(true);
    setMessage(null);
    try {
      if (validateOnly) {
        const r = await api("tasks/validate", { method: "POST", body: payload() });
        setMessage(`Valid: it will become DAG ${r.dag_id}. Nothing was saved.`);
        setErrors({ byKey: {}, rest: [] });
      } else {
        const saved = existing
          ? await api(`tasks/${encodeURIComponent(existing.slug)}${query({ expected_revision: existing.revision })}`, { method: "PUT", body: payload() })
          : await api("tasks", { method: "POST", body: payload() });
        onSaved(saved);
      }
    } catch (error) {
      const keys = ["name", "slug", "description", "owner", "schedule", "retention_days", "approver_must_differ", "execution", "quasi_identifiers", "tags", "params",
        "scripts.extraction", "scripts.field_rules", "scripts.transformation", "scripts.anonymization", "scripts.upload", "scripts"];
      const grouped = errorsFor(error.fieldErrors, "$", keys);
      if (!error.fieldErrors.length) grouped.rest.push({ path: "", msg: error.message });
      setErrors(grouped);
    } finally {
      setBusy(false);
    }
  };

  const all = scripts.data || [];
  const text = (key, label, extra = {}) =>
    h(FormField, { label, error: errors.byKey[key], ...extra },
      h(C.Input, { size: "sm", value: task[key] ?? "", onChange: (e) => set(key, e.target.value), "data-field": key }));

  return h(
    C.Stack,
    { gap: 4, maxW: "4xl", "data-testid": "task-editor" },
    h(C.Heading, { size: "md" }, existing ? `Edit task ${existing.name}` : "New ETL task"),
    h(
      C.SimpleGrid,
      { columns: { base: 1, md: 2 }, gap: 4 },
      text("name", "Name", { required: true }),
      text("slug", "Slug (DAG id suffix)", { helper: "Derived from the name when empty" }),
      text("owner", "Owner", { required: true }),
      text("schedule", "Schedule", { helper: "Cron, a preset such as @daily, or empty for manual runs" }),
      h(FormField, { label: "Retention of unapproved data (days)", error: errors.byKey.retention_days },
        h(C.Input, { size: "sm", type: "number", value: task.retention_days, onChange: (e) => set("retention_days", Number(e.target.value)) })),
      h(FormField, { label: "Review policy", error: errors.byKey.approver_must_differ },
        h(Select, {
          value: task.approver_must_differ ? "yes" : "no",
          onChange: (v) => set("approver_must_differ", v === "yes"),
          options: [["yes", "Approver must differ from the editor"], ["no", "Editor may approve"]],
        })),
      h(FormField, { label: "Execution", error: errors.byKey.execution,
                     helper: "Streamed needs one extraction, a row-wise transformation and a dedupe that keeps the first row" },
        h(Select, {
          value: task.execution || "mapped",
          onChange: (v) => set("execution", v),
          testId: "task-execution",
          options: [["mapped", "Mapped: a task per stage and chunk, spread over workers"],
                    ["streamed", "Streamed: one task streams every chunk through all stages"]],
        })),
    ),
    text("description", "Description"),
    h(FormField, { label: "Quasi-identifiers", error: errors.byKey.quasi_identifiers, helper: "Comma separated column names" },
      h(C.Input, { size: "sm", value: (task.quasi_identifiers || []).join(", "), onChange: (e) => set("quasi_identifiers", e.target.value.split(",").map((s) => s.trim()).filter(Boolean)) })),
    h(
      Section,
      { title: "Scripts" },
      scripts.error ? h(ErrorBox, { error: scripts.error }) : null,
      h(
        C.Stack,
        { gap: 3 },
        h(
          FormField,
          { label: "Extractions", error: errors.byKey["scripts.extraction"], required: true },
          h(
            C.Stack,
            { gap: 2, width: "full" },
            ...task.scripts.extraction.map((ref, i) =>
              h(
                C.HStack,
                { key: i, gap: 2 },
                h(ScriptPicker, {
                  kind: "extraction",
                  testId: `pick-extraction-${i}`,
                  scripts: all,
                  value: ref.name,
                  onChange: (name) => setScripts("extraction", task.scripts.extraction.map((r, j) => (j === i ? { ...r, name, version: null } : r))),
                }),
                h(VersionPicker, {
                  script: ref.name,
                  value: ref.version,
                  onChange: (version) => setScripts("extraction", task.scripts.extraction.map((r, j) => (j === i ? { ...r, version } : r))),
                }),
                h(C.Input, {
                  size: "sm",
                  width: "160px",
                  placeholder: "input name",
                  "data-testid": `input-extraction-${i}`,
                  value: ref.input || "",
                  onChange: (e) => setScripts("extraction", task.scripts.extraction.map((r, j) => (j === i ? { ...r, input: e.target.value } : r))),
                }),
                task.scripts.extraction.length > 1
                  ? h(C.Button, { size: "xs", variant: "ghost", onClick: () => setScripts("extraction", task.scripts.extraction.filter((_, j) => j !== i)) }, "Remove")
                  : null,
              ),
            ),
            h(C.Button, {
              size: "xs",
              variant: "outline",
              alignSelf: "flex-start",
              onClick: () => setScripts("extraction", [...task.scripts.extraction, { name: "", version: null, input: `source${task.scripts.extraction.length + 1}` }]),
            }, "Add extraction"),
          ),
        ),
        ...SINGLE_ROLES.map(([role, required]) => {
          const ref = task.scripts[role] || { name: "", version: null };
          return h(
            FormField,
            { key: role, label: role.replace("_", " "), error: errors.byKey[`scripts.${role}`], required },
            h(
              C.HStack,
              { gap: 2 },
              h(ScriptPicker, { kind: role, testId: `pick-${role}`, scripts: all, value: ref.name, onChange: (name) => setScripts(role, name ? { name, version: null } : required ? { name: "", version: null } : null) }),
              h(VersionPicker, { script: ref.name, value: ref.version, onChange: (version) => setScripts(role, { ...ref, version }) }),
            ),
          );
        }),
      ),
      errors.byKey.scripts ? h(C.Text, { color: "fg.error", whiteSpace: "pre-wrap", mt: 2 }, errors.byKey.scripts) : null,
    ),
    errors.rest.length ? h(ErrorBox, { error: { fieldErrors: errors.rest, message: "" }, title: "Please fix" }) : null,
    h(ProblemCount, { count: Object.keys(errors.byKey).length }),
    h(Notice, { text: message }),
    h(
      C.HStack,
      { gap: 2 },
      h(C.Button, { colorPalette: "blue", loading: busy, onClick: () => submit(false), "data-testid": "save-task" }, "Save"),
      h(C.Button, { variant: "outline", disabled: busy, onClick: () => submit(true) }, "Validate"),
      h(C.Button, { variant: "ghost", onClick: onCancel }, "Cancel"),
    ),
  );
}

// ---------------------------------------------------------------- batches and their quarantine

const BATCH_LIST_LIMIT = 20;
const QUARANTINE_PAGE = 20;

function rawValue(value) {
  if (value === null || value === undefined) return h(C.Text, { as: "span", color: "fg.muted" }, "null");
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

// Quarantined rows are raw (not anonymized) personal data: the API gives them to admins only
// and records every page read; anyone else gets 403 and sees why.
function QuarantineRows({ batchId }) {
  const [offset, setOffset] = useState(0);
  const page = useApi(`batches/${batchId}/quarantine${query({ limit: QUARANTINE_PAGE, offset })}`);
  if (page.error && page.error.status === 403) {
    return h(C.Text, { color: "fg.muted", fontSize: "sm", "data-testid": "quarantine-admin-only" },
      "Only admins can see the quarantined rows: they are raw personal data, not anonymized.");
  }
  if (page.error) return h(ErrorBox, { error: page.error });
  if (!page.data) return h(Loading);
  const p = page.data;
  const last = Math.min(p.offset + p.rows.length, p.total);
  return h(
    C.Stack,
    { gap: 2, "data-testid": "quarantine-rows" },
    h(C.Text, { fontSize: "xs", color: "fg.muted" }, "Raw values as they arrived; each view is recorded in the audit trail."),
    h(C.Box, { overflowX: "auto" },
      h(DataTable, {
        rows: p.rows,
        empty: "No quarantined rows.",
        rowKey: (r) => `${r.input}-${r.chunk}-${r.row}`,
        columns: [
          { label: "Reasons", render: (r) => h(C.Stack, { gap: 1 }, ...r.reasons.map((x) => h(C.Badge, { key: x, colorPalette: "orange", variant: "subtle" }, x))) },
          { label: "Input", render: (r) => h(C.Text, { fontFamily: "mono", fontSize: "xs" }, `${r.input} #${r.chunk}`) },
          ...p.columns.map((c) => ({ label: `${c.name} (${c.type})`, render: (r) => rawValue(r.values[c.name]) })),
        ],
      })),
    h(
      C.HStack,
      { gap: 2 },
      h(C.Button, { size: "xs", variant: "outline", disabled: p.offset === 0, onClick: () => setOffset(Math.max(0, offset - QUARANTINE_PAGE)) }, "← Previous"),
      h(C.Button, { size: "xs", variant: "outline", disabled: last >= p.total, onClick: () => setOffset(offset + QUARANTINE_PAGE) }, "Next →"),
      h(C.Text, { fontSize: "sm", color: "fg.muted" }, p.total ? `${count(p.offset + 1)}–${count(last)} of ${count(p.total)}` : ""),
    ),
  );
}

function BatchQuarantine({ batch }) {
  const n = batch.quarantined_rows || 0;
  const summary = (batch.privacy_report && batch.privacy_report.quarantine) || {};
  const reasons = Object.entries(summary.reasons || {});
  return h(
    C.Stack,
    { gap: 2, mt: 3 },
    h(C.Heading, { size: "sm" }, `Batch ${batch.id}`),
    h(C.Text, { "data-testid": "batch-quarantined" }, `${count(n)} rows quarantined`),
    reasons.length
      ? h(C.Text, { fontSize: "sm", color: "fg.muted" }, reasons.map(([r, k]) => `${r}: ${count(k)}`).join(" · "))
      : null,
    n ? h(QuarantineRows, { batchId: batch.id }) : null,
  );
}

// `runsSeen` changes whenever the task's runs move on (see TaskDetail): a run makes its batch
// while it goes and publishes it when it ends, so the list follows the runs.
function BatchesSection({ slug, runsSeen }) {
  const batches = useApi(`batches${query({ task: slug, limit: BATCH_LIST_LIMIT })}`);
  const [openId, setOpenId] = useState(null);
  const reloadBatches = batches.reload;
  const lastSeen = useRef(runsSeen);
  useEffect(() => {
    if (lastSeen.current && runsSeen !== lastSeen.current) reloadBatches();
    lastSeen.current = runsSeen;
  }, [runsSeen, reloadBatches]);
  const open = batches.data ? batches.data.find((b) => b.id === openId) : null;
  return h(
    Section,
    { title: "Outbox batches", actions: h(C.Button, { size: "xs", variant: "ghost", onClick: batches.reload }, "Refresh") },
    batches.error ? h(ErrorBox, { error: batches.error }) : null,
    h(DataTable, {
      rows: batches.data || [],
      empty: "No batches yet.",
      rowKey: (b) => b.id,
      onRowClick: (b) => setOpenId(b.id === openId ? null : b.id),
      columns: [
        { label: "Batch", render: (b) => `#${b.id}` },
        { label: "State", render: (b) => h(StateBadge, { value: b.state, testId: `batch-state-${b.id}` }) },
        { label: "Rows", render: (b) => count(b.row_count) },
        { label: "Quarantined", render: (b) => count(b.quarantined_rows || 0) },
        { label: "Created", render: (b) => when(b.created_at) },
        { label: "Expires", render: (b) => when(b.expires_at) },
      ],
    }),
    open ? h(BatchQuarantine, { key: open.id, batch: open }) : null,
  );
}

// ---------------------------------------------------------------- task detail

const RUN_REFRESH_MS = 5000;

function TaskDetail({ slug, onEdit, onBack }) {
  const task = useApi(`tasks/${encodeURIComponent(slug)}`);
  const runs = useApi(`tasks/${encodeURIComponent(slug)}/runs`);
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [message, setMessage] = useState(null);
  // While a run is going its rows per stage move: refresh them until it ends.
  const live = Boolean(
    runs.data &&
      (runs.data.runs.some((r) => r.state === "running") ||
        runs.data.dag_runs.some((r) => r.state === "running" || r.state === "queued")),
  );
  const runsSeen = runs.data
    ? [...runs.data.runs.map((r) => `${r.id}:${r.state}:${r.stage}`), ...runs.data.dag_runs.map((r) => `${r.dag_run_id}:${r.state}`)].join(",")
    : "";
  const reloadRuns = runs.reload;
  useEffect(() => {
    if (!live) return undefined;
    const timer = setInterval(reloadRuns, RUN_REFRESH_MS);
    return () => clearInterval(timer);
  }, [live, reloadRuns]);
  if (task.error) return h(ErrorBox, { error: task.error });
  if (!task.data) return h(Loading);
  const t = task.data;
  const act = async (action) => {
    setBusy(action);
    setError(null);
    setMessage(null);
    try {
      const result = await api(`tasks/${encodeURIComponent(slug)}/${action}`, { method: "POST", body: action === "trigger" ? {} : undefined });
      setMessage(action === "trigger" ? `Run ${result.dag_run_id} started.` : `Task ${action}d.`);
      task.reload();
      runs.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  const dagId = `etlx__${t.slug}`;
  const dagUrl = new URL(`dags/${dagId}`, AIRFLOW_ROOT).href;
  return h(
    C.Stack,
    { gap: 4 },
    h(
      C.HStack,
      { justifyContent: "space-between", wrap: "wrap" },
      h(
        C.HStack,
        { gap: 3 },
        h(C.Button, { size: "sm", variant: "ghost", onClick: onBack }, "← Tasks"),
        h(C.Heading, { size: "lg" }, t.name),
        h(StateBadge, { value: t.state }),
        runs.data && runs.data.dag_paused !== null && runs.data.dag_paused !== undefined
          ? h(C.Badge, { variant: "outline", colorPalette: runs.data.dag_paused ? "gray" : "green", "data-testid": "airflow-paused" },
              runs.data.dag_paused ? "paused in Airflow" : "unpaused in Airflow")
          : null,
      ),
      h(
        C.HStack,
        { gap: 2 },
        h(C.Button, { size: "sm", colorPalette: "blue", loading: busy === "trigger", disabled: t.state === "draft", onClick: () => act("trigger"), "data-testid": "trigger-task" }, "Trigger"),
        t.state === "paused" || (runs.data && runs.data.dag_paused)
          ? h(C.Button, { size: "sm", variant: "outline", loading: busy === "unpause", onClick: () => act("unpause") }, "Unpause")
          : h(C.Button, { size: "sm", variant: "outline", loading: busy === "pause", disabled: t.state === "draft", onClick: () => act("pause") }, "Pause"),
        h(C.Button, { size: "sm", variant: "outline", onClick: () => onEdit(t) }, "Edit"),
      ),
    ),
    h(ErrorBox, { error }),
    h(Notice, { text: message }),
    t.dag_error ? h(Notice, { status: "warning", text: `The DAG could not be built: ${t.dag_error}` }) : null,
    h(
      C.SimpleGrid,
      { columns: { base: 1, md: 2 }, gap: 4 },
      h(
        Section,
        { title: "Task" },
        h(
          C.Stack,
          { gap: 1, fontSize: "sm" },
          h(C.Text, null, "DAG: ", h(C.Link, { href: dagUrl, color: "blue.fg" }, dagId)),
          h(C.Text, null, `Schedule: ${t.schedule || "manual"}`),
          h(C.Text, null, `Owner: ${t.owner}`),
          h(C.Text, null, `Retention: ${t.retention_days} days`),
          h(C.Text, null, `Review: ${t.approver_must_differ ? "approver must differ from the editor" : "editor may approve"}`),
          h(C.Text, null, `Execution: ${(t.spec && t.spec.execution) || "mapped"}`),
          h(C.Text, null, `Revision ${t.revision}, saved by ${t.updated_by} ${when(t.updated_at)}`),
          t.description ? h(C.Text, { color: "fg.muted" }, t.description) : null,
        ),
      ),
      h(
        Section,
        { title: "Pinned script versions" },
        h(DataTable, {
          rows: [...t.scripts].sort((a, b) => KINDS.indexOf(a.role) - KINDS.indexOf(b.role) || a.position - b.position),
          rowKey: (p) => `${p.role}-${p.position}`,
          columns: [
            { label: "Role", render: (p) => h(StateBadge, { value: p.role }) },
            { label: "Script", render: (p) => p.name || p.script_name || p.script_id },
            { label: "Version", render: (p) => `v${p.version}` },
            { label: "Input", render: (p) => p.input_name || "—" },
          ],
        }),
      ),
    ),
    runs.data && runs.data.runs.length
      ? h(
          Section,
          { title: "Runs recorded by ETL-Express" },
          h(DataTable, {
            rows: runs.data.runs,
            rowKey: (r) => r.id,
            columns: [
              { label: "Run", render: (r) => h(C.Text, { fontFamily: "mono", fontSize: "xs" }, r.dag_run_id) },
              { label: "State", render: (r) => h(StateBadge, { value: r.state, testId: `run-state-${r.dag_run_id}` }) },
              { label: "Stage", render: (r) => r.stage || "—" },
              { label: "Rows per stage", render: (r) => h(StageRows, { stats: r.stats }) },
              { label: "Started", render: (r) => when(r.started_at) },
              { label: "Ended", render: (r) => when(r.ended_at) },
              { label: "Error", render: (r) => (r.error ? r.error.message || JSON.stringify(r.error) : "—") },
            ],
          }),
        )
      : null,
    h(BatchesSection, { slug: t.slug, runsSeen }),
    h(
      Section,
      { title: "Airflow runs", actions: h(C.Button, { size: "xs", variant: "ghost", onClick: runs.reload }, "Refresh") },
      runs.error ? h(ErrorBox, { error: runs.error }) : null,
      runs.data && runs.data.dag_error && !runs.data.dag_runs.length ? h(C.Text, { color: "fg.muted", mb: 2 }, runs.data.dag_error) : null,
      h(DataTable, {
        rows: runs.data ? runs.data.dag_runs : [],
        empty: "No runs yet.",
        rowKey: (r) => r.dag_run_id,
        columns: [
          { label: "Run", render: (r) => h(C.Text, { fontFamily: "mono", fontSize: "xs" }, r.dag_run_id) },
          { label: "Type", render: (r) => r.run_type },
          { label: "State", render: (r) => h(StateBadge, { value: r.state }) },
          { label: "Started", render: (r) => when(r.start_date || r.queued_at) },
          { label: "Ended", render: (r) => when(r.end_date) },
        ],
      }),
    ),
  );
}

function TasksPage() {
  const [view, setView] = useState({ mode: "list" });
  const [filters, setFilters] = useState({ q: "", state: "" });
  const list = useApi(view.mode === "list" ? `tasks${query({ ...filters, limit: 200 })}` : null);
  if (view.mode === "new" || view.mode === "edit") {
    return h(TaskEditor, {
      existing: view.task,
      onSaved: (t) => setView({ mode: "detail", slug: t.slug, key: Date.now() }),
      onCancel: () => setView(view.task ? { mode: "detail", slug: view.task.slug } : { mode: "list" }),
    });
  }
  if (view.mode === "detail") {
    return h(TaskDetail, {
      key: `${view.slug}-${view.key || 0}`,
      slug: view.slug,
      onEdit: (task) => setView({ mode: "edit", task }),
      onBack: () => setView({ mode: "list" }),
    });
  }
  return h(
    C.Stack,
    { gap: 3 },
    h(
      C.HStack,
      { gap: 2 },
      h(C.Input, { size: "sm", placeholder: "Search tasks", value: filters.q, onChange: (e) => setFilters({ ...filters, q: e.target.value }), maxW: "280px" }),
      h(Select, { value: filters.state, onChange: (state) => setFilters({ ...filters, state }), options: [["", "All states"], "active", "paused", "draft"], width: "160px" }),
      h(C.Spacer),
      h(C.Button, { size: "sm", colorPalette: "blue", onClick: () => setView({ mode: "new" }), "data-testid": "new-task" }, "New task"),
    ),
    list.error ? h(ErrorBox, { error: list.error }) : null,
    list.loading && !list.data ? h(Loading) : null,
    list.data
      ? h(DataTable, {
          rows: list.data,
          empty: "No tasks match.",
          rowKey: (t) => t.id,
          onRowClick: (t) => setView({ mode: "detail", slug: t.slug }),
          columns: [
            { label: "Name", render: (t) => h(C.Text, { fontWeight: "medium" }, t.name) },
            { label: "DAG", render: (t) => h(C.Text, { fontFamily: "mono", fontSize: "xs" }, `etlx__${t.slug}`) },
            { label: "State", render: (t) => h(StateBadge, { value: t.state }) },
            { label: "Schedule", render: (t) => t.schedule || "manual" },
            { label: "Owner", render: (t) => t.owner },
            { label: "Updated", render: (t) => when(t.updated_at) },
          ],
        })
      : null,
  );
}

// ---------------------------------------------------------------- page

const TABS = [
  ["overview", "Overview", Overview],
  ["tasks", "ETL tasks", TasksPage],
  ["scripts", "Scripts", ScriptsPage],
  ["audit", "Audit", AuditPage],
];

function EtlExpressPage() {
  const [tab, setTab] = useState("overview");
  return h(
    C.Box,
    { p: 4, "data-testid": "etl-express-page" },
    h(
      C.HStack,
      { gap: 3, mb: 4 },
      h(C.Heading, { size: "xl" }, "ETL-Express"),
      h(C.Text, { color: "fg.muted" }, "Extract, clean, anonymize and review data for MLOps platforms"),
    ),
    h(
      C.Tabs.Root,
      { value: tab, onValueChange: (e) => setTab(e.value), variant: "line", lazyMount: true, unmountOnExit: true },
      h(C.Tabs.List, null, ...TABS.map(([value, label]) => h(C.Tabs.Trigger, { key: value, value }, label))),
      ...TABS.map(([value, , Component]) => h(C.Tabs.Content, { key: value, value, pt: 4 }, h(Component))),
    ),
  );
}

globalThis["ETL-Express"] = EtlExpressPage;
export default EtlExpressPage;
