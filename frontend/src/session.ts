// Who is signed in, and the organization context the URL selects.
import { useQuery } from "@tanstack/react-query";
import { meMeGet, unwrap } from "./api";

export function useMe() {
  return useQuery({
    queryKey: ["me"],
    queryFn: () => unwrap(meMeGet()),
    retry: false,
    refetchInterval: false,
  });
}
