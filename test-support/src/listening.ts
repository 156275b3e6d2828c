// The listening lines are the programs' own output, so their one parser lives beside the code
// that prints them; tests and benches read them through this re-export.
export { parseListening, type GatewayListening, type Listening, type TorServerListening } from 'tor-server/options';
