// The API's shapes the console reads (see /openapi.json); unknown fields pass through.
export interface OrderLine {
  item_id: string;
  option_id: string | null;
  name: string;
  quantity: number;
  unit_price_cents: number;
  line_total_cents: number;
  flavours?: { item_id: string; name: string }[];
  modifiers?: { modifier_id: string; name: string; quantity: number }[];
  notes?: string | null;
}

export interface Order {
  order_id: string;
  order_number: number;
  channel: string;
  call_id: string | null;
  customer: { name: string | null; phone: string | null };
  lines: OrderLine[];
  subtotal_cents: number;
  delivery_fee_cents: number;
  total_cents: number;
  fulfilment: "pickup" | "delivery";
  address: {
    raw: string;
    street?: string | null;
    number?: string | null;
    complement?: string | null;
    neighbourhood?: string | null;
    city?: string | null;
    reference?: string | null;
  } | null;
  payment: { method: string; change_for_cents?: number | null } | null;
  notes: string | null;
  status: string;
  status_reason: string | null;
  version: number;
  placed_at: string;
  history: { to_status: string; at: string; actor: string; reason?: string | null }[];
  allowed_transitions: string[];
}

export interface Turn {
  role: "agent" | "caller" | string;
  text: string;
  at?: string;
}

export interface CallRecord {
  call_id: string;
  status: string;
  caller_number: string | null;
  started_at: string | null;
  ended_at: string | null;
  duration_seconds: number | null;
  charged_cents: number | null;
  outcome: string | null;
  summary: string | null;
  order_id: string | null;
  order_number: number | null;
  transcript: { turns?: Turn[] } | null;
}
