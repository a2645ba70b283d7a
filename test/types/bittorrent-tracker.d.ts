// bittorrent-tracker ships no types; tests describe the parts they use where they use them.
declare module 'bittorrent-tracker/client' {
  const Client: unknown;
  export default Client;
}
